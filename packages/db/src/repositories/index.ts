import type { Repositories } from '@bootlun/core';
import type { PrismaClient } from '../generated/client';
import { PrismaApiKeyRepository } from './api-key.repository';
import { PrismaBackendRepository } from './backend.repository';
import { PrismaHostObjectRepository } from './host-object.repository';
import { PrismaLunBatchRepository } from './lun-batch.repository';
import { PrismaLunRepository } from './lun.repository';
import { PrismaNodeRepository } from './node.repository';
import { PrismaOperationRepository } from './operation.repository';
import { PrismaSealedSecretRepository } from './sealed-secret.repository';
import { PrismaSnapshotRepository } from './snapshot.repository';

export function createRepositories(db: PrismaClient): Repositories {
  return {
    backends: new PrismaBackendRepository(db),
    nodes: new PrismaNodeRepository(db),
    luns: new PrismaLunRepository(db),
    operations: new PrismaOperationRepository(db),
    snapshots: new PrismaSnapshotRepository(db),
    apiKeys: new PrismaApiKeyRepository(db),
    sealedSecrets: new PrismaSealedSecretRepository(db),
    hostObjects: new PrismaHostObjectRepository(db),
    lunBatches: new PrismaLunBatchRepository(db),
  };
}
export { mapPrismaError } from './prisma-errors';
