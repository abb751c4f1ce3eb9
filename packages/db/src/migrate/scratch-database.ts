import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { withDatabase } from './database-url';

export interface ScratchDatabase {
  name: string;
  url: string;
}

export const defaultAdminUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Random suffix so parallel CI jobs and concurrent tool runs never share a database. */
export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

async function onAdmin<T>(adminUrl: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

// Names come from uniqueDatabaseName or a caller's constant; quoting still keeps odd ones safe.
const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export async function createDatabase(adminUrl: string, name: string): Promise<ScratchDatabase> {
  await onAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return { name, url: withDatabase(adminUrl, name) };
}

/** FORCE ends sessions a test or tool left open, so cleanup never hangs. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await onAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

/** Runs `use` against a fresh database and always drops it afterwards. */
export async function withScratchDatabase<T>(
  adminUrl: string,
  prefix: string,
  use: (db: ScratchDatabase) => Promise<T>,
): Promise<T> {
  const db = await createDatabase(adminUrl, uniqueDatabaseName(prefix));
  try {
    return await use(db);
  } finally {
    await dropDatabase(adminUrl, db.name);
  }
}
