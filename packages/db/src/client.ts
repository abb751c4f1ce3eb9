import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';

export interface PrismaClientOptions {
  /** Most connections the pool opens (node-postgres defaults to 10). */
  poolMax?: number;
}

/**
 * Prisma 7 has no built-in driver: queries go through a driver adapter, here node-postgres.
 * The adapter sends unnamed statements (no statementNameGenerator), so every query is
 * parsed, bound and run within one round trip: safe behind PgBouncer in transaction mode,
 * which (before 1.21) cannot keep named prepared statements across server connections.
 * Callers own the client and must `$disconnect()` it on shutdown.
 */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, ...(options.poolMax ? { max: options.poolMax } : {}) }) });
}
