import type { HostObject, HostObjectRepository } from '@bootlun/core';
import type { PrismaClient } from '../generated/client';
import { guarded } from './prisma-errors';

export class PrismaHostObjectRepository implements HostObjectRepository {
  constructor(private readonly db: PrismaClient) {}

  async claim(backendId: string, objects: HostObject[]): Promise<void> {
    if (objects.length === 0) return;
    await guarded('storage backend', backendId, () =>
      this.db.backendObject.createMany({ data: objects.map((o) => ({ backendId, kind: o.kind, name: o.name })), skipDuplicates: true }),
    );
  }

  async release(backendId: string, object: HostObject): Promise<void> {
    await guarded('storage backend', backendId, () => this.db.backendObject.deleteMany({ where: { backendId, kind: object.kind, name: object.name } }));
  }

  listOwned(backendId: string): Promise<HostObject[]> {
    return guarded('storage backend', backendId, async () =>
      (await this.db.backendObject.findMany({ where: { backendId }, select: { kind: true, name: true } })).map((o) => ({ kind: o.kind, name: o.name })),
    );
  }
}
