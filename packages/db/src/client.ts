import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';

/**
 * Prisma 7 has no built-in driver: queries go through a driver adapter, here node-postgres.
 * Callers own the client and must `$disconnect()` it on shutdown.
 */
export function createPrismaClient(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}
