import type { BackendConfig } from '@bootlun/contracts';
import type { ApiKey, Backend, BootNode, Lun, LunPatch, LunView, Operation, OperationParams } from '@bootlun/core';
import type { ApiKey as ApiKeyRow, IscsiLun, Node, Operation as OperationRow, Prisma, StorageBackend } from '../generated/client';

export const toBackend = (row: StorageBackend): Backend => ({ ...row, config: row.config as unknown as BackendConfig });

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

export const toOperation = (row: OperationRow): Operation => ({ ...row, params: (row.params ?? {}) as OperationParams });
