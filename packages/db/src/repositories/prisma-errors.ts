import { ConflictError, DomainError, NotFoundError, UnavailableError } from '@bootlun/core';
import { Prisma } from '../generated/client';

/**
 * The columns of a violated unique constraint. Through the pg adapter Prisma reports only
 * the index name ("<table>_<column>_key", Prisma's naming), so the column is read from it.
 */
function uniqueFields(err: Prisma.PrismaClientKnownRequestError): string[] {
  const meta = err.meta as { target?: string[] | string; driverAdapterError?: { cause?: { table?: string; constraint?: { fields?: string[]; index?: string } } } } | undefined;
  const cause = meta?.driverAdapterError?.cause;
  if (cause?.constraint?.fields?.length) return cause.constraint.fields.map((f) => f.replace(/"/g, ''));
  const index = cause?.constraint?.index;
  if (index && cause?.table && index.startsWith(`${cause.table}_`) && index.endsWith('_key')) return [index.slice(cause.table.length + 1, -'_key'.length)];
  const target = meta?.target ?? [];
  return Array.isArray(target) ? target : [target];
}

const CONNECTION_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

function isConnectionError(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientInitializationError) return true;
  if (err instanceof Prisma.PrismaClientKnownRequestError && CONNECTION_CODES.has(err.code)) return true;
  const text = String((err as Error)?.message ?? '');
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection terminated|terminating connection|the database system is (starting up|shutting down)|Can't reach database|DatabaseNotReachable|connection (is )?closed|Client has encountered a connection error/i.test(text);
}

/**
 * Turns Prisma/driver errors into domain errors: unique violations → conflict naming
 * the field, foreign-key violations → conflict, missing rows → not found, an
 * unreachable database → unavailable. Anything else is rethrown untouched.
 */
/**
 * A raw query's failure (P2010) as the code Prisma gives the same failure of a typed
 * query: the driver adapter says what kind of violation it was.
 */
function effectiveCode(err: Prisma.PrismaClientKnownRequestError): string {
  if (err.code !== 'P2010') return err.code;
  const kind = (err.meta as { driverAdapterError?: { cause?: { kind?: string } } } | undefined)?.driverAdapterError?.cause?.kind;
  return kind === 'UniqueConstraintViolation' ? 'P2002' : kind === 'ForeignKeyConstraintViolation' ? 'P2003' : err.code;
}

export function mapPrismaError(err: unknown, what: string, id?: string): never {
  // A use case's own decision made inside a transaction (placement finding no room) passes as it is.
  if (err instanceof DomainError) throw err;
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    const code = effectiveCode(err);
    if (code === 'P2002') {
      const fields = uniqueFields(err);
      const shown = fields.length ? fields.join(', ') : 'a unique field';
      throw new ConflictError(`a ${what} with this ${shown} already exists`, fields.map((field) => ({ field, message: 'already taken' })));
    }
    if (code === 'P2003') throw new ConflictError(`${what} ${id ?? ''} is still referenced by other records`.replace('  ', ' '));
    if (code === 'P2025') throw new NotFoundError(what, id ?? '(unknown)');
  }
  if (isConnectionError(err)) throw new UnavailableError('the database is unreachable; try again shortly');
  throw err;
}

/** Runs a query and maps its failures. */
export async function guarded<T>(what: string, id: string | undefined, query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (err) {
    mapPrismaError(err, what, id);
  }
}
