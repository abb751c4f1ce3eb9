import type { BootNode, NodeRepository, Page, PageRequest } from '@bootlun/core';
import { Prisma, type PrismaClient } from '../generated/client';
import { toNode } from './mappers';
import { guarded } from './prisma-errors';

/** The columns of a BootNode, named as its fields (the compiler checks the list covers every field and no other). */
const NODE_COLUMNS: { [K in keyof BootNode]: string } = {
  id: 'id',
  macAddress: 'mac_address',
  hostname: 'hostname',
  initiatorIqn: 'initiator_iqn',
  ipAddress: 'ip_address',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
};
const NODE_SELECT = Prisma.raw(`SELECT ${Object.entries(NODE_COLUMNS).map(([field, column]) => `${column} AS "${field}"`).join(', ')}`);

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

  listByIds(ids: string[]): Promise<BootNode[]> {
    return guarded('node', undefined, () => this.db.node.findMany({ where: { id: { in: ids } } }));
  }

  /** A page and the total in one statement, in (created_at, id) order from its index. */
  list(page: PageRequest): Promise<Page<BootNode>> {
    return guarded('node', undefined, async () => {
      const rows = await this.db.$queryRaw<Array<BootNode & { total: number }>>`${NODE_SELECT}, (SELECT count(*)::int FROM nodes) AS "total" FROM nodes ORDER BY created_at, id LIMIT ${page.limit} OFFSET ${page.offset}`;
      if (rows.length === 0) return { items: [], total: page.offset === 0 ? 0 : await this.db.node.count() };
      const total = rows[0]!.total;
      return {
        items: rows.map((r) => ({ id: r.id, macAddress: r.macAddress, hostname: r.hostname, initiatorIqn: r.initiatorIqn, ipAddress: r.ipAddress, createdAt: r.createdAt, updatedAt: r.updatedAt })),
        total,
      };
    });
  }
}
