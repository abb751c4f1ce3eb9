import type { Backend } from '@bootlun/core';
import type { Prisma } from '../generated/client';
import { lunTotalsByBackend, NO_LUNS, toBackend } from './mappers';

/**
 * The transaction-scoped advisory lock every placed create takes before it reads the
 * backends, held until its LUN is committed: the next placement then counts that LUN in
 * the backend's provisioned size. Creates that name their backend never take it. The key
 * is this lock's alone (the migration runner's is 72707369).
 */
export const PLACEMENT_LOCK_KEY = 0x626c_706c_6163_6531n;

export async function lockPlacement(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${PLACEMENT_LOCK_KEY}::bigint)`;
}

/** Every backend with its stats (last capacity report, LUN count and provisioned size), as placement weighs them. */
export async function readPlacementBackends(tx: Prisma.TransactionClient): Promise<Backend[]> {
  const rows = await tx.storageBackend.findMany({ orderBy: { name: 'asc' } });
  const groups = await tx.iscsiLun.groupBy({ by: ['backendId', 'template'], _count: { _all: true }, _sum: { sizeGb: true } });
  const totals = lunTotalsByBackend(groups);
  return rows.map((row) => toBackend(row, totals.get(row.id) ?? NO_LUNS));
}
