import type { BootNode, NodeRepository, Page, PageRequest } from '@bootlun/core';
import type { PrismaClient } from '../generated/client';
import { toNode } from './mappers';
import { guarded } from './prisma-errors';

export class PrismaNodeRepository implements NodeRepository {
  constructor(private readonly db: PrismaClient) {}

  create(data: { macAddress: string; hostname: string | null; initiatorIqn: string; ipAddress: string | null }): Promise<BootNode> {
    return guarded('node', undefined, async () => toNode(await this.db.node.create({ data })));
  }

  update(id: string, patch: Partial<Pick<BootNode, 'macAddress' | 'hostname' | 'initiatorIqn' | 'ipAddress'>>): Promise<BootNode> {
    return guarded('node', id, async () => toNode(await this.db.node.update({ where: { id }, data: patch })));
  }

  async delete(id: string): Promise<void> {
    await guarded('node', id, () => this.db.node.delete({ where: { id } }));
  }

  get(id: string): Promise<BootNode | null> {
    return guarded('node', id, () => this.db.node.findUnique({ where: { id } }));
  }

  getByMac(mac: string): Promise<BootNode | null> {
    return guarded('node', mac, () => this.db.node.findUnique({ where: { macAddress: mac } }));
  }

  list(page: PageRequest): Promise<Page<BootNode>> {
    return guarded('node', undefined, async () => {
      const [items, total] = await this.db.$transaction([
        this.db.node.findMany({ orderBy: { createdAt: 'asc' }, take: page.limit, skip: page.offset }),
        this.db.node.count(),
      ]);
      return { items, total };
    });
  }
}
