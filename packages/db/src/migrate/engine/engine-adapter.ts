import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { createDatabase, dropDatabase, uniqueDatabaseName } from '../scratch-database';
import { CharAsTextClient } from './char-as-text-client';

/**
 * adapter-pg for the schema engine, with what its 7.10 factory gets wrong for migrations:
 *  - executeScript splits on ";", which breaks `$$` bodies and string literals: we send the
 *    whole script as one simple-protocol query instead (no parameters => simple protocol);
 *  - connectToShadowDb spreads `database` next to `connectionString`, and pg lets the URL win,
 *    so the "shadow" silently is the main database: we build the shadow URL ourselves;
 *  - "char" columns cannot be read: see CharAsTextClient.
 */
async function openAdapter(url: string, afterDispose?: () => Promise<void>): Promise<SqlDriverAdapter> {
  const pool = new pg.Pool({ connectionString: url, Client: CharAsTextClient, max: 2 });
  const adapter = await new PrismaPg(pool, { disposeExternalPool: true }).connect();
  adapter.executeScript = async (script: string) => {
    await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
  };
  const dispose = adapter.dispose.bind(adapter);
  adapter.dispose = async () => {
    await dispose();
    await afterDispose?.();
  };
  return adapter;
}

export class SchemaEngineAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName = '@prisma/adapter-pg';

  /**
   * @param mainUrl the "live" database the engine may look at (a scratch one in our tools)
   * @param adminUrl where shadow databases are created and dropped
   */
  constructor(
    private readonly mainUrl: string,
    private readonly adminUrl: string,
  ) {}

  connect(): Promise<SqlDriverAdapter> {
    return openAdapter(this.mainUrl);
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const shadow = await createDatabase(this.adminUrl, uniqueDatabaseName('prisma_shadow'));
    return openAdapter(shadow.url, () => dropDatabase(this.adminUrl, shadow.name));
  }
}
