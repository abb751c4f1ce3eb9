-- CreateEnum
CREATE TYPE "BackendStatus" AS ENUM ('online', 'offline', 'error');

-- CreateEnum
CREATE TYPE "LunStatus" AS ENUM ('creating', 'ready', 'active', 'error', 'deleting');

-- CreateEnum
CREATE TYPE "LunPurpose" AS ENUM ('boot_from_san', 'install_source', 'auto_provision');

-- CreateEnum
CREATE TYPE "OperationKind" AS ENUM ('create', 'delete', 'assign', 'unassign', 'update', 'resize', 'reconcile');

-- CreateEnum
CREATE TYPE "OperationStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "ApiKeyRole" AS ENUM ('viewer', 'operator', 'admin');

-- CreateTable
CREATE TABLE "storage_backends" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'iscsi',
    "status" "BackendStatus" NOT NULL DEFAULT 'offline',
    "config" JSONB NOT NULL,
    "last_heartbeat_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "storage_backends_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "nodes" (
    "id" UUID NOT NULL,
    "mac_address" TEXT NOT NULL,
    "hostname" TEXT,
    "initiator_iqn" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "nodes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "iscsi_luns" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "size_gb" INTEGER NOT NULL,
    "backend_id" UUID NOT NULL,
    "iqn" TEXT NOT NULL,
    "lun_number" INTEGER,
    "purpose" "LunPurpose" NOT NULL,
    "status" "LunStatus" NOT NULL DEFAULT 'creating',
    "error_message" TEXT,
    "assigned_node_id" UUID,
    "chap_enabled" BOOLEAN NOT NULL DEFAULT false,
    "chap_username" TEXT,
    "chap_secret_sealed" TEXT,
    "chap_secret_key_id" TEXT,
    "mutual_chap_enabled" BOOLEAN NOT NULL DEFAULT false,
    "target_chap_username" TEXT,
    "target_chap_secret_sealed" TEXT,
    "target_chap_secret_key_id" TEXT,
    "generation" INTEGER NOT NULL DEFAULT 1,
    "drift" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "iscsi_luns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "operations" (
    "id" UUID NOT NULL,
    "kind" "OperationKind" NOT NULL,
    "status" "OperationStatus" NOT NULL DEFAULT 'queued',
    "backend_id" UUID NOT NULL,
    "lun_id" UUID,
    "lun_name" TEXT,
    "lun_generation" INTEGER,
    "params" JSONB NOT NULL DEFAULT '{}',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL,
    "progress_percent" INTEGER NOT NULL DEFAULT 0,
    "progress_step" TEXT,
    "error" TEXT,
    "job_id" TEXT,
    "enqueued_at" TIMESTAMP(3),
    "next_attempt_at" TIMESTAMP(3),
    "cancel_requested" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "operations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "role" "ApiKeyRole" NOT NULL,
    "lookup_id" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMP(3),
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "storage_backends_name_key" ON "storage_backends"("name");

-- CreateIndex
CREATE UNIQUE INDEX "nodes_mac_address_key" ON "nodes"("mac_address");

-- CreateIndex
CREATE UNIQUE INDEX "nodes_initiator_iqn_key" ON "nodes"("initiator_iqn");

-- CreateIndex
CREATE UNIQUE INDEX "iscsi_luns_name_key" ON "iscsi_luns"("name");

-- CreateIndex
CREATE UNIQUE INDEX "iscsi_luns_iqn_key" ON "iscsi_luns"("iqn");

-- CreateIndex
CREATE INDEX "iscsi_luns_backend_id_idx" ON "iscsi_luns"("backend_id");

-- CreateIndex
CREATE INDEX "iscsi_luns_status_idx" ON "iscsi_luns"("status");

-- CreateIndex
CREATE INDEX "iscsi_luns_purpose_idx" ON "iscsi_luns"("purpose");

-- CreateIndex
CREATE INDEX "iscsi_luns_assigned_node_id_idx" ON "iscsi_luns"("assigned_node_id");

-- CreateIndex
CREATE INDEX "operations_lun_id_idx" ON "operations"("lun_id");

-- CreateIndex
CREATE INDEX "operations_status_idx" ON "operations"("status");

-- CreateIndex
CREATE INDEX "operations_backend_id_status_idx" ON "operations"("backend_id", "status");

-- CreateIndex
CREATE INDEX "operations_enqueued_at_idx" ON "operations"("enqueued_at");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_name_key" ON "api_keys"("name");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_lookup_id_key" ON "api_keys"("lookup_id");

-- AddForeignKey
ALTER TABLE "iscsi_luns" ADD CONSTRAINT "iscsi_luns_backend_id_fkey" FOREIGN KEY ("backend_id") REFERENCES "storage_backends"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "iscsi_luns" ADD CONSTRAINT "iscsi_luns_assigned_node_id_fkey" FOREIGN KEY ("assigned_node_id") REFERENCES "nodes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "operations" ADD CONSTRAINT "operations_backend_id_fkey" FOREIGN KEY ("backend_id") REFERENCES "storage_backends"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "operations" ADD CONSTRAINT "operations_lun_id_fkey" FOREIGN KEY ("lun_id") REFERENCES "iscsi_luns"("id") ON DELETE SET NULL ON UPDATE CASCADE;
