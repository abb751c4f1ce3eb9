import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { createDatabase, dropDatabase, uniqueDatabaseName } from '../scratch-database';
import { CharAsTextClient } from './char-as-text-client';

/**
 * adapter-pg for the schema engine, minus what its 7.10 factory gets wrong for migrations:
 *  - executeScript splits on ";", breaking `$$` bodies and literals: we send the whole script
 *    as one simple-protocol query instead (a query without parameters uses that protocol);
 *  - connectToShadowDb spreads `database` beside `connectionString`, and pg lets the URL win,
 *    so the "shadow" silently is the main database: we create it and build its URL ourselves;
 *  - "char" columns cannot be read: see CharAsTextClient.
 */
async function openAdapter(url: string, afterDispose?: () => Promise<void>): Promise<SqlDriverAdapter> {
  const pool = new pg.Pool({ connectionString: url, Client: CharAsTextClient, max: 2 });
  const adapter = await new PrismaPg(pool, { disposeExternalPool: true }).connect();
  adapter.executeScript = async (script: string) => {
    await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
  };
  const dispose = adapter.dispose.bind(adapter);
  let disposed: Promise<void> | undefined;
  // Idempotent: the engine disposes shadow databases itself, we dispose whatever is left.
  adapter.dispose = () => {
    disposed ??= dispose().then(() => afterDispose?.());
    return disposed;
  };
  return adapter;
}

export class SchemaEngineAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName = '@prisma/adapter-pg';
  private readonly opened: SqlDriverAdapter[] = [];

  /**
   * @param mainUrl the database the engine connects to at start (our tools pass a scratch one)
   * @param adminUrl where shadow databases are created and dropped
   */
  constructor(
    private readonly mainUrl: string,
    private readonly adminUrl: string,
  ) {}

  async connect(): Promise<SqlDriverAdapter> {
    return this.track(await openAdapter(this.mainUrl));
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const shadow = await createDatabase(this.adminUrl, uniqueDatabaseName('prisma_shadow'));
    return this.track(await openAdapter(shadow.url, () => dropDatabase(this.adminUrl, shadow.name)));
  }

  /** Ends every pool and drops any shadow database the engine did not dispose of. */
  async close(): Promise<void> {
    await Promise.all(this.opened.map((adapter) => adapter.dispose()));
  }

  private track(adapter: SqlDriverAdapter): SqlDriverAdapter {
    this.opened.push(adapter);
    return adapter;
  }
}
