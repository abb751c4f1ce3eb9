import { initiatorPortal, type BackendResponse, type BackendStatsResponse, type LunResponse, type NodeResponse, type OperationResponse, type SnapshotResponse } from '@bootlun/contracts';
import type { ApiKey, Backend, BackendStats, BootNode, LunSnapshot, LunView, Operation } from '@bootlun/core';

function iso(d: Date): string;
function iso(d: Date | null): string | null;
function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

/** A LUN as the API shows it: never a secret. `target_id`/`target_name` mirror the backend for PureBoot's UI. */
export function presentLun(lun: LunView): LunResponse {
  return {
    id: lun.id,
    name: lun.name,
    size_gb: lun.sizeGb,
    backend_id: lun.backendId,
    backend_name: lun.backendName,
    target_id: lun.backendId,
    target_name: lun.backendName,
    iqn: lun.iqn,
    lun_number: lun.lunNumber,
    purpose: lun.purpose,
    template: lun.template,
    source_lun_id: lun.sourceLunId,
    source_snapshot_id: lun.sourceSnapshotId,
    status: lun.status,
    error_message: lun.errorMessage,
    assigned_node_id: lun.assignedNodeId,
    assigned_node_name: lun.assignedNodeName,
    chap_enabled: lun.chapEnabled,
    chap_username: lun.chapUsername,
    mutual_chap_enabled: lun.mutualChapEnabled,
    target_chap_username: lun.targetChapUsername,
    drift: lun.drift,
    generation: lun.generation,
    created_at: iso(lun.createdAt),
    updated_at: iso(lun.updatedAt),
  };
}

/**
 * Stats in PureBoot's shape (its Storage page reads used/total bytes and file/template
 * counts of every backend and fails without them) plus ours. Before the worker's first
 * report the measured numbers are null, used_bytes 0.
 */
export function presentBackendStats(s: BackendStats): BackendStatsResponse {
  const c = s.capacity;
  return {
    total_bytes: c?.totalBytes ?? null,
    used_bytes: c?.usedBytes ?? 0,
    free_bytes: c?.freeBytes ?? null,
    file_count: s.lunCount,
    template_count: s.templateCount,
    lun_count: s.lunCount,
    provisioned_bytes: s.provisionedBytes,
    source: c?.source ?? null,
    reported_at: c ? iso(s.reportedAt) : null,
  };
}

/** The stored config plus PureBoot's iSCSI fields: `target`/`port` (the portal initiators use) and `chap_enabled`. */
/** Snapshots copy backing files the way clones do, so a file backend snapshots as it clones; a volume backend takes thin snapshots in its thin pool, and none without one. */
function snapshotMethodOf(b: Backend): 'reflink' | 'copy' | 'thin' | 'none' | null {
  if (b.config.backingstore_type === 'block') return b.config.thin_pool ? 'thin' : 'none';
  const clone = b.stats.capacity?.clone;
  return clone === 'reflink' || clone === 'copy' || clone === 'none' ? clone : null;
}

export function presentBackend(b: Backend): BackendResponse {
  const portal = initiatorPortal(b.config);
  return {
    id: b.id,
    name: b.name,
    type: b.type,
    status: b.status,
    config: { ...b.config, chap_enabled: b.config.chap_enabled ?? false, target: portal.ip, port: portal.port },
    stats: presentBackendStats(b.stats),
    // Volume backends clone by thin snapshot in their thin pool, and not at all without one, whatever a worker reported.
    capabilities: { clone: b.config.backingstore_type === 'block' ? (b.config.thin_pool ? 'thin' : 'none') : (b.stats.capacity?.clone ?? null), snapshot: snapshotMethodOf(b) },
    last_heartbeat_at: iso(b.lastHeartbeatAt),
    created_at: iso(b.createdAt),
    updated_at: iso(b.updatedAt),
  };
}

export function presentNode(n: BootNode): NodeResponse {
  return {
    id: n.id,
    mac_address: n.macAddress,
    hostname: n.hostname,
    initiator_iqn: n.initiatorIqn,
    ip_address: n.ipAddress,
    created_at: iso(n.createdAt),
    updated_at: iso(n.updatedAt),
  };
}

export function presentOperation(op: Operation): OperationResponse {
  return {
    id: op.id,
    kind: op.kind,
    status: op.status,
    backend_id: op.backendId,
    lun_id: op.lunId,
    lun_name: op.lunName,
    attempts: op.attempts,
    max_attempts: op.maxAttempts,
    progress_percent: op.progressPercent,
    progress_step: op.progressStep,
    error: op.error,
    result: op.result,
    job_id: op.jobId,
    enqueued_at: iso(op.enqueuedAt),
    next_attempt_at: iso(op.nextAttemptAt),
    cancel_requested: op.cancelRequested,
    created_at: iso(op.createdAt),
    started_at: iso(op.startedAt),
    finished_at: iso(op.finishedAt),
    updated_at: iso(op.updatedAt),
  };
}

export function presentApiKey(k: ApiKey) {
  return { id: k.id, name: k.name, role: k.role, created_at: iso(k.createdAt), last_used_at: iso(k.lastUsedAt), revoked_at: iso(k.revokedAt) };
}

export function presentSnapshot(s: LunSnapshot): SnapshotResponse {
  return {
    id: s.id,
    lun_id: s.lunId,
    name: s.name,
    size_gb: s.sizeGb,
    status: s.status,
    method: s.method,
    error_message: s.errorMessage,
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
  };
}
