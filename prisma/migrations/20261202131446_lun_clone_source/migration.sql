-- AlterTable
ALTER TABLE "iscsi_luns" ADD COLUMN     "source_lun_id" UUID;

-- CreateIndex
CREATE INDEX "iscsi_luns_source_lun_id_idx" ON "iscsi_luns"("source_lun_id");
