-- CreateEnum
CREATE TYPE "BackendObjectKind" AS ENUM ('target', 'backing');

-- AlterTable
ALTER TABLE "storage_backends" ADD COLUMN     "stats" JSONB,
ADD COLUMN     "stats_reported_at" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "nodes" ADD COLUMN     "ip_address" TEXT;

-- AlterTable
ALTER TABLE "operations" ADD COLUMN     "result" JSONB;

-- CreateTable
CREATE TABLE "backend_objects" (
    "backend_id" UUID NOT NULL,
    "kind" "BackendObjectKind" NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "backend_objects_pkey" PRIMARY KEY ("backend_id","kind","name")
);

-- AddForeignKey
ALTER TABLE "backend_objects" ADD CONSTRAINT "backend_objects_backend_id_fkey" FOREIGN KEY ("backend_id") REFERENCES "storage_backends"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Existing LUNs: their targets and backing stores belong to the backend the row names.
INSERT INTO "backend_objects" ("backend_id", "kind", "name")
SELECT l."backend_id", 'target', l."iqn" FROM "iscsi_luns" l
ON CONFLICT DO NOTHING;

INSERT INTO "backend_objects" ("backend_id", "kind", "name")
SELECT l."backend_id", 'backing',
       CASE WHEN b."config"->>'backingstore_type' = 'block'
            THEN '/dev/' || (b."config"->>'backingstore_path') || '/bootlun-' || l."id"
            ELSE rtrim(b."config"->>'backingstore_path', '/') || '/bootlun-' || l."id" || '.img'
       END
FROM "iscsi_luns" l JOIN "storage_backends" b ON b."id" = l."backend_id"
ON CONFLICT DO NOTHING;
