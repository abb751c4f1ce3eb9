import type { BackendConfig } from '@bootlun/contracts';
import type { ApiKey, Backend, BackendCapacity, BootNode, Lun, LunPatch, LunView, Operation, OperationParams } from '@bootlun/core';
import type { ApiKey as ApiKeyRow, IscsiLun, Node, Operation as OperationRow, Prisma, StorageBackend } from '../generated/client';

/** A backend's LUN rows and the sum of their sizes (one aggregate query serves a whole page of backends). */
export interface BackendLunTotals {
  lunCount: number;
  sizeGb: number;
}
export const NO_LUNS: BackendLunTotals = { lunCount: 0, sizeGb: 0 };
const GIB = 1024 ** 3;

const byteCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The worker's stored capacity report; anything that is not one (hand-edited, older shape) counts as none. */
function toCapacity(json: unknown): BackendCapacity | null {
  const c = json as Partial<BackendCapacity> | null;
  if (!c || typeof c !== 'object' || (c.source !== 'filesystem' && c.source !== 'volume_group') || typeof c.location !== 'string') return null;
  if (!byteCount(c.totalBytes) || !byteCount(c.usedBytes) || !byteCount(c.freeBytes)) return null;
  return { source: c.source, location: c.location, totalBytes: c.totalBytes, usedBytes: c.usedBytes, freeBytes: c.freeBytes };
}

export function toBackend(row: StorageBackend, luns: BackendLunTotals): Backend {
  const { stats, statsReportedAt, ...rest } = row;
  const capacity = toCapacity(stats);
  return {
    ...rest,
    config: row.config as unknown as BackendConfig,
    stats: { capacity, reportedAt: capacity ? statsReportedAt : null, lunCount: luns.lunCount, provisionedBytes: luns.sizeGb * GIB },
  };
}

export const toNode = (row: Node): BootNode => row;

export const toApiKey = (row: ApiKeyRow): ApiKey => row;

export function toLun(row: IscsiLun): Lun {
  const { chapSecretSealed, chapSecretKeyId, targetChapSealed, targetChapKeyId, ...rest } = row;
  return {
    ...rest,
    chapSecret: chapSecretSealed && chapSecretKeyId ? { sealed: chapSecretSealed, keyId: chapSecretKeyId } : null,
    targetChapSecret: targetChapSealed && targetChapKeyId ? { sealed: targetChapSealed, keyId: targetChapKeyId } : null,
  };
}

export const lunViewInclude = { backend: { select: { name: true } }, assignedNode: { select: { hostname: true, macAddress: true } } } as const;
type LunWithNames = IscsiLun & { backend: { name: string }; assignedNode: { hostname: string | null; macAddress: string } | null };

export function toLunView(row: LunWithNames): LunView {
  const { backend, assignedNode, ...lun } = row;
  return { ...toLun(lun), backendName: backend.name, assignedNodeName: assignedNode ? (assignedNode.hostname ?? assignedNode.macAddress) : null };
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
