import type { BackendConfig } from '@bootlun/contracts';
import type { Backend, BackendCapacity, BackendRef, BackendRepository, BackendStatus, Page, PageRequest } from '@bootlun/core';
import type { Prisma, PrismaClient, StorageBackend } from '../generated/client';
import { lunTotalsByBackend, NO_LUNS, toBackend } from './mappers';
import { guarded } from './prisma-errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class PrismaBackendRepository implements BackendRepository {
  constructor(private readonly db: PrismaClient) {}

  create(data: { name: string; type: string; config: BackendConfig }): Promise<Backend> {
    return guarded('storage backend', undefined, async () => toBackend(await this.db.storageBackend.create({ data: { ...data, config: data.config } }), NO_LUNS));
  }

  update(id: string, patch: { name?: string; config?: BackendConfig }): Promise<Backend> {
    return guarded('storage backend', id, async () => this.withLunTotals(await this.db.storageBackend.update({ where: { id }, data: patch })));
  }

  async delete(id: string): Promise<void> {
    await guarded('storage backend', id, () => this.db.storageBackend.delete({ where: { id } }));
  }

  get(id: string): Promise<Backend | null> {
    return guarded('storage backend', id, async () => {
      const row = await this.db.storageBackend.findUnique({ where: { id } });
      return row && this.withLunTotals(row);
    });
  }

  getRef(id: string): Promise<BackendRef | null> {
    return guarded('storage backend', id, async () => {
      // On every create's path: a plain statement, no compiled query.
      const [row] = await this.db.$queryRaw<Array<{ id: string; name: string; config: BackendConfig }>>`SELECT id, name, config FROM storage_backends WHERE id = ${id}::uuid`;
      return row ?? null;
    });
  }

  findByRef(ref: string): Promise<Backend | null> {
    return guarded('storage backend', ref, async () => {
      const row = UUID.test(ref) ? await this.db.storageBackend.findUnique({ where: { id: ref } }) : await this.db.storageBackend.findUnique({ where: { name: ref } });
      return row && this.withLunTotals(row);
    });
  }

  list(page: PageRequest): Promise<Page<Backend>> {
    return guarded('storage backend', undefined, async () => {
      const [rows, total] = await Promise.all([
        this.db.storageBackend.findMany({ orderBy: { createdAt: 'asc' }, take: page.limit, skip: page.offset }),
        this.db.storageBackend.count(),
      ]);
      return { items: await this.withLunTotals(rows), total };
    });
  }

  listAll(): Promise<Backend[]> {
    return guarded('storage backend', undefined, async () => this.withLunTotals(await this.db.storageBackend.findMany({ orderBy: { createdAt: 'asc' } })));
  }

  countLuns(id: string): Promise<number> {
    return guarded('storage backend', id, () => this.db.iscsiLun.count({ where: { backendId: id } }));
  }

  async recordHeartbeat(id: string, status: BackendStatus, at: Date): Promise<void> {
    await guarded('storage backend', id, () => this.db.storageBackend.update({ where: { id }, data: { status, lastHeartbeatAt: at } }));
  }

  async recordCapacity(id: string, capacity: BackendCapacity, at: Date): Promise<void> {
    const { clone, ...measured } = capacity;
    const stats = (clone ? { ...measured, clone } : measured) satisfies Prisma.InputJsonObject;
    await guarded('storage backend', id, () => this.db.storageBackend.update({ where: { id }, data: { stats, statsReportedAt: at } }));
  }

  /** Rows → backends with their LUN and template counts and provisioned size: one aggregate query for any number of rows. */
  private async withLunTotals(row: StorageBackend): Promise<Backend>;
  private async withLunTotals(rows: StorageBackend[]): Promise<Backend[]>;
  private async withLunTotals(input: StorageBackend | StorageBackend[]): Promise<Backend | Backend[]> {
    const rows = Array.isArray(input) ? input : [input];
    const groups =
      rows.length > 0
        ? await this.db.iscsiLun.groupBy({ by: ['backendId', 'template'], where: { backendId: { in: rows.map((r) => r.id) } }, _count: { _all: true }, _sum: { sizeGb: true } })
        : [];
    const totals = lunTotalsByBackend(groups);
    const backends = rows.map((r) => toBackend(r, totals.get(r.id) ?? NO_LUNS));
    return Array.isArray(input) ? backends : backends[0]!;
  }
}
