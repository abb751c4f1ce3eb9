import type { ChapSecretColumn, SealedSecret, SealedSecretRepository, StoredSecret } from '@bootlun/core';
import type { Prisma, PrismaClient } from '../generated/client';
import { guarded } from './prisma-errors';

/** The Prisma fields of each sealed column and its key id. */
const COLUMNS = {
  chap: { sealed: 'chapSecretSealed', keyId: 'chapSecretKeyId' },
  target_chap: { sealed: 'targetChapSealed', keyId: 'targetChapKeyId' },
} as const satisfies Record<ChapSecretColumn, { sealed: keyof Prisma.IscsiLunWhereInput; keyId: keyof Prisma.IscsiLunWhereInput }>;

const SELECT = { id: true, chapSecretSealed: true, chapSecretKeyId: true, targetChapSealed: true, targetChapKeyId: true } as const;
type Row = Prisma.IscsiLunGetPayload<{ select: typeof SELECT }>;

/** A row's sealed values; a column counts only with both the ciphertext and its key id (as the LUN mapper reads it). */
function storedSecrets(row: Row): StoredSecret[] {
  const out: StoredSecret[] = [];
  for (const column of Object.keys(COLUMNS) as ChapSecretColumn[]) {
    const sealed = row[COLUMNS[column].sealed];
    const keyId = row[COLUMNS[column].keyId];
    if (sealed && keyId) out.push({ lunId: row.id, column, secret: { sealed, keyId } });
  }
  return out;
}

const present = (column: ChapSecretColumn): Prisma.IscsiLunWhereInput => ({ [COLUMNS[column].sealed]: { not: null }, [COLUMNS[column].keyId]: { not: null } });

export class PrismaSealedSecretRepository implements SealedSecretRepository {
  constructor(private readonly db: PrismaClient) {}

  countByKeyId(): Promise<Array<{ keyId: string; count: number }>> {
    return guarded('sealed secret', undefined, async () => {
      const [chap, target] = await Promise.all([
        this.db.iscsiLun.groupBy({ by: ['chapSecretKeyId'], where: present('chap'), _count: { _all: true } }),
        this.db.iscsiLun.groupBy({ by: ['targetChapKeyId'], where: present('target_chap'), _count: { _all: true } }),
      ]);
      const counts = new Map<string, number>();
      for (const g of chap) counts.set(g.chapSecretKeyId!, (counts.get(g.chapSecretKeyId!) ?? 0) + g._count._all);
      for (const g of target) counts.set(g.targetChapKeyId!, (counts.get(g.targetChapKeyId!) ?? 0) + g._count._all);
      return [...counts].map(([keyId, count]) => ({ keyId, count }));
    });
  }

  sample(keyId: string, limit: number): Promise<StoredSecret[]> {
    return guarded('sealed secret', undefined, async () => {
      const rows = await this.db.iscsiLun.findMany({
        where: { OR: [{ ...present('chap'), chapSecretKeyId: keyId }, { ...present('target_chap'), targetChapKeyId: keyId }] },
        select: SELECT,
        orderBy: { id: 'asc' },
        take: limit,
      });
      return rows.flatMap(storedSecrets).filter((s) => s.secret.keyId === keyId).slice(0, limit);
    });
  }

  listPage(afterLunId: string | null, limit: number): Promise<{ secrets: StoredSecret[]; lastLunId: string | null }> {
    return guarded('sealed secret', undefined, async () => {
      const rows = await this.db.iscsiLun.findMany({
        where: { ...(afterLunId ? { id: { gt: afterLunId } } : {}), OR: [present('chap'), present('target_chap')] },
        select: SELECT,
        orderBy: { id: 'asc' },
        take: limit,
      });
      return { secrets: rows.flatMap(storedSecrets), lastLunId: rows.length === limit ? rows[rows.length - 1]!.id : null };
    });
  }

  replace(lunId: string, column: ChapSecretColumn, expected: SealedSecret, next: SealedSecret): Promise<boolean> {
    const { sealed, keyId } = COLUMNS[column];
    return guarded('sealed secret', lunId, async () => {
      // Compare-and-set on the value read: no generation bump, the secret itself is unchanged.
      const moved = await this.db.iscsiLun.updateMany({
        where: { id: lunId, [sealed]: expected.sealed, [keyId]: expected.keyId },
        data: { [sealed]: next.sealed, [keyId]: next.keyId },
      });
      return moved.count > 0;
    });
  }
}
