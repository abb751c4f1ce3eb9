import type { BackendConfig } from '@bootlun/contracts';
import type { ApiKey, Backend, BackendCapacity, BootNode, Lun, LunPatch, LunView, Operation, OperationParams } from '@bootlun/core';
import type { ApiKey as ApiKeyRow, IscsiLun, Node, Operation as OperationRow, Prisma, StorageBackend } from '../generated/client';

/** A backend's LUN rows, the sum of their sizes and how many are templates (one aggregate query serves a whole page of backends). */
export interface BackendLunTotals {
  lunCount: number;
  sizeGb: number;
  templateCount: number;
}
export const NO_LUNS: BackendLunTotals = { lunCount: 0, sizeGb: 0, templateCount: 0 };

/** What `groupBy: ['backendId', 'template']` with a count and a size sum returns, per row. */
export interface LunTotalsGroup {
  backendId: string;
  template: boolean;
  _count: { _all: number };
  _sum: { sizeGb: number | null };
}

/** Folds the (backend, template) groups into one total per backend. */
export function lunTotalsByBackend(groups: readonly LunTotalsGroup[]): Map<string, BackendLunTotals> {
  const totals = new Map<string, BackendLunTotals>();
  for (const g of groups) {
    const t = totals.get(g.backendId) ?? { ...NO_LUNS };
    t.lunCount += g._count._all;
    t.sizeGb += g._sum.sizeGb ?? 0;
    if (g.template) t.templateCount += g._count._all;
    totals.set(g.backendId, t);
  }
  return totals;
}
const GIB = 1024 ** 3;

const byteCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The worker's stored capacity report; anything that is not one (hand-edited, older shape) counts as none. */
function toCapacity(json: unknown): BackendCapacity | null {
  const c = json as Partial<BackendCapacity> | null;
  if (!c || typeof c !== 'object' || (c.source !== 'filesystem' && c.source !== 'volume_group' && c.source !== 'thin_pool') || typeof c.location !== 'string') return null;
  if (!byteCount(c.totalBytes) || !byteCount(c.usedBytes) || !byteCount(c.freeBytes)) return null;
  const capacity: BackendCapacity = { source: c.source, location: c.location, totalBytes: c.totalBytes, usedBytes: c.usedBytes, freeBytes: c.freeBytes };
  if (c.clone === 'reflink' || c.clone === 'copy' || c.clone === 'thin' || c.clone === 'none') capacity.clone = c.clone;
  return capacity;
}

export function toBackend(row: StorageBackend, luns: BackendLunTotals): Backend {
  const { stats, statsReportedAt, ...rest } = row;
  const capacity = toCapacity(stats);
  return {
    ...rest,
    config: row.config as unknown as BackendConfig,
    stats: { capacity, reportedAt: capacity ? statsReportedAt : null, lunCount: luns.lunCount, provisionedBytes: luns.sizeGb * GIB, templateCount: luns.templateCount },
  };
}

export const toNode = (row: Node): BootNode => row;

export const toApiKey = (row: ApiKeyRow): ApiKey => row;

/** Row → domain object, field by field: no rest/spread copies of a 22-column row. */
export function toLun(row: IscsiLun): Lun {
  return {
    id: row.id,
    name: row.name,
    sizeGb: row.sizeGb,
    backendId: row.backendId,
    iqn: row.iqn,
    lunNumber: row.lunNumber,
    purpose: row.purpose,
    template: row.template,
    sourceLunId: row.sourceLunId,
    sourceSnapshotId: row.sourceSnapshotId,
    status: row.status,
    errorMessage: row.errorMessage,
    assignedNodeId: row.assignedNodeId,
    chapEnabled: row.chapEnabled,
    chapUsername: row.chapUsername,
    chapSecret: row.chapSecretSealed && row.chapSecretKeyId ? { sealed: row.chapSecretSealed, keyId: row.chapSecretKeyId } : null,
    mutualChapEnabled: row.mutualChapEnabled,
    targetChapUsername: row.targetChapUsername,
    targetChapSecret: row.targetChapSealed && row.targetChapKeyId ? { sealed: row.targetChapSealed, keyId: row.targetChapKeyId } : null,
    generation: row.generation,
    drift: row.drift,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export const lunViewInclude = { backend: { select: { name: true } }, assignedNode: { select: { hostname: true, macAddress: true } } } as const;
type LunWithNames = IscsiLun & { backend: { name: string }; assignedNode: { hostname: string | null; macAddress: string } | null };

export function toLunView(row: LunWithNames): LunView {
  const view = toLun(row) as LunView;
  view.backendName = row.backend.name;
  view.assignedNodeName = row.assignedNode ? (row.assignedNode.hostname ?? row.assignedNode.macAddress) : null;
  return view;
}

/** Domain patch → Prisma columns (sealed secrets split into ciphertext and key id). */
export function toLunData(patch: LunPatch): Prisma.IscsiLunUncheckedUpdateInput {
  const { chapSecret, targetChapSecret, ...rest } = patch;
  const data: Prisma.IscsiLunUncheckedUpdateInput = { ...rest };
  if (chapSecret !== undefined) {
    data.chapSecretSealed = chapSecret?.sealed ?? null;
    data.chapSecretKeyId = chapSecret?.keyId ?? null;
  }
  if (targetChapSecret !== undefined) {
    data.targetChapSealed = targetChapSecret?.sealed ?? null;
    data.targetChapKeyId = targetChapSecret?.keyId ?? null;
  }
  return data;
}

export const toOperation = (row: OperationRow): Operation => ({ ...row, params: (row.params ?? {}) as OperationParams, result: (row.result ?? null) as Operation['result'] });
