-- DropIndex
DROP INDEX "iscsi_luns_assigned_node_id_idx";

-- DropIndex
DROP INDEX "iscsi_luns_backend_id_idx";

-- DropIndex
DROP INDEX "iscsi_luns_purpose_idx";

-- DropIndex
DROP INDEX "iscsi_luns_status_idx";

-- CreateIndex
CREATE INDEX "iscsi_luns_created_at_id_idx" ON "iscsi_luns"("created_at", "id");

-- CreateIndex
CREATE INDEX "iscsi_luns_backend_id_created_at_id_idx" ON "iscsi_luns"("backend_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "iscsi_luns_status_created_at_id_idx" ON "iscsi_luns"("status", "created_at", "id");

-- CreateIndex
CREATE INDEX "iscsi_luns_purpose_created_at_id_idx" ON "iscsi_luns"("purpose", "created_at", "id");

-- CreateIndex
CREATE INDEX "iscsi_luns_assigned_node_id_created_at_id_idx" ON "iscsi_luns"("assigned_node_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "nodes_created_at_id_idx" ON "nodes"("created_at", "id");

-- CreateIndex
CREATE INDEX "operations_created_at_id_idx" ON "operations"("created_at" DESC, "id");
