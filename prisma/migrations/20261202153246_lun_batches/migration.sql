-- CreateTable
CREATE TABLE "lun_batches" (
    "id" UUID NOT NULL,
    "source_lun_id" UUID NOT NULL,
    "name_pattern" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "request_hash" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "lun_batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lun_batch_items" (
    "batch_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "node_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "lun_id" UUID,
    "operation_id" UUID,
    "error_code" TEXT,
    "error_detail" TEXT,

    CONSTRAINT "lun_batch_items_pkey" PRIMARY KEY ("batch_id","position")
);

-- CreateIndex
CREATE UNIQUE INDEX "lun_batches_idempotency_key_key" ON "lun_batches"("idempotency_key");

-- AddForeignKey
ALTER TABLE "lun_batch_items" ADD CONSTRAINT "lun_batch_items_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "lun_batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;
