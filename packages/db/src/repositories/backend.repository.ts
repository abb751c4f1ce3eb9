import type { BackendConfig } from '@bootlun/contracts';
import type { Backend, BackendRepository, BackendStatus, Page, PageRequest } from '@bootlun/core';
import type { PrismaClient } from '../generated/client';
import { toBackend } from './mappers';
import { guarded } from './prisma-errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class PrismaBackendRepository implements BackendRepository {
  constructor(private readonly db: PrismaClient) {}

  create(data: { name: string; type: string; config: BackendConfig }): Promise<Backend> {
    return guarded('storage backend', undefined, async () => toBackend(await this.db.storageBackend.create({ data: { ...data, config: data.config } })));
  }

  update(id: string, patch: { name?: string; config?: BackendConfig }): Promise<Backend> {
    return guarded('storage backend', id, async () => toBackend(await this.db.storageBackend.update({ where: { id }, data: patch })));
  }

  async delete(id: string): Promise<void> {
    await guarded('storage backend', id, () => this.db.storageBackend.delete({ where: { id } }));
  }

  get(id: string): Promise<Backend | null> {
    return guarded('storage backend', id, async () => {
      const row = await this.db.storageBackend.findUnique({ where: { id } });
      return row && toBackend(row);
    });
  }

  findByRef(ref: string): Promise<Backend | null> {
    return guarded('storage backend', ref, async () => {
      const row = UUID.test(ref) ? await this.db.storageBackend.findUnique({ where: { id: ref } }) : await this.db.storageBackend.findUnique({ where: { name: ref } });
      return row && toBackend(row);
    });
  }

  list(page: PageRequest): Promise<Page<Backend>> {
    return guarded('storage backend', undefined, async () => {
      const [rows, total] = await this.db.$transaction([
        this.db.storageBackend.findMany({ orderBy: { createdAt: 'asc' }, take: page.limit, skip: page.offset }),
        this.db.storageBackend.count(),
      ]);
      return { items: rows.map(toBackend), total };
    });
  }

  listAll(): Promise<Backend[]> {
    return guarded('storage backend', undefined, async () => (await this.db.storageBackend.findMany({ orderBy: { createdAt: 'asc' } })).map(toBackend));
  }

  countLuns(id: string): Promise<number> {
    return guarded('storage backend', id, () => this.db.iscsiLun.count({ where: { backendId: id } }));
  }

  async recordHeartbeat(id: string, status: BackendStatus, at: Date): Promise<void> {
    await guarded('storage backend', id, () => this.db.storageBackend.update({ where: { id }, data: { status, lastHeartbeatAt: at } }));
  }
}
