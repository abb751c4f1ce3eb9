import { DEFAULT_SCHEMA, quoteSchemaName, runMigrations, type PgPool, type PgPoolClient, type PgQueryResult } from 'bullmq';
import pg from 'pg';

/**
 * One node-postgres pool for every queue a process opens on BullMQ's PostgreSQL store.
 * Left to itself each Queue builds its own pool (up to 4 connections), and the API opens
 * a queue per storage host: Bull Board over 30 hosts could ask for 120 connections and get
 * "too many clients". BullMQ migrates only pools it builds itself, so this one migrates its
 * schema before the first query it lets through.
 */
export function sharedQueuePool(connectionString: string, max: number): PgPool {
  const pool = new pg.Pool({ connectionString, max, options: `-c search_path=${quoteSchemaName(DEFAULT_SCHEMA)}` });
  pool.setMaxListeners(0); // every queue listens for its errors
  pool.on('error', () => undefined); // an idle connection that drops is replaced on the next query
  let migrated: Promise<void> | undefined;
  const ready = () =>
    (migrated ??= (async () => {
      const client = await pool.connect();
      try {
        await runMigrations(client);
      } finally {
        client.release();
      }
    })().catch((err: unknown) => {
      migrated = undefined; // the next query tries again (the database may have been down)
      throw err;
    }));
  const shared: PgPool = {
    async connect() {
      await ready();
      return (await pool.connect()) as unknown as PgPoolClient;
    },
    async query<R>(text: string, params?: readonly unknown[]) {
      await ready();
      return (await pool.query(text, params as unknown[])) as unknown as PgQueryResult<R>;
    },
    end: () => pool.end(),
    on(event: 'error' | 'connect', listener: (arg: never) => void) {
      pool.on(event as 'error', listener as (err: Error) => void);
      return shared;
    },
    removeAllListeners(event?: string) {
      pool.removeAllListeners(event);
      return shared;
    },
  };
  return shared;
}
