-- CreateEnum
CREATE TYPE "SnapshotStatus" AS ENUM ('creating', 'ready', 'deleting', 'error');

-- AlterEnum
ALTER TYPE "OperationKind" ADD VALUE 'snapshot_create';
ALTER TYPE "OperationKind" ADD VALUE 'snapshot_delete';
ALTER TYPE "OperationKind" ADD VALUE 'rollback';

-- AlterTable
ALTER TABLE "iscsi_luns" ADD COLUMN     "source_snapshot_id" UUID;

-- CreateTable
CREATE TABLE "lun_snapshots" (
    "id" UUID NOT NULL,
    "lun_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "size_gb" INTEGER NOT NULL,
    "status" "SnapshotStatus" NOT NULL DEFAULT 'creating',
    "method" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "lun_snapshots_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "lun_snapshots_lun_id_created_at_id_idx" ON "lun_snapshots"("lun_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "lun_snapshots_lun_id_name_key" ON "lun_snapshots"("lun_id", "name");

-- CreateIndex
CREATE INDEX "iscsi_luns_source_snapshot_id_idx" ON "iscsi_luns"("source_snapshot_id");

-- AddForeignKey
ALTER TABLE "lun_snapshots" ADD CONSTRAINT "lun_snapshots_lun_id_fkey" FOREIGN KEY ("lun_id") REFERENCES "iscsi_luns"("id") ON DELETE CASCADE ON UPDATE CASCADE;
