/**
 * Migration commands without Prisma's native schema engine:
 *   deploy        apply pending migrations to DATABASE_DIRECT_URL, else DATABASE_URL (production, CI, docker)
 *   new <name>    write prisma/migrations/<timestamp>_<name> from the schema change (--empty for hand SQL)
 *   drift         fail when schema.prisma and the migrations disagree
 * `new` and `drift` run Prisma's engine (wasm) against scratch databases on PG_ADMIN_URL.
 */
import { migrateDeploy } from './deploy';
import { diffMigrationsToSchema, type SchemaDiffInput } from './engine/schema-diff';
import { MigrationError } from './migration.error';
import { createMigration } from './new-migration';
import { defaultMigrationsDir, defaultSchemaPath } from './paths';
import { defaultAdminUrl } from './scratch-database';

const usage = 'usage: cli.ts deploy | new <name> [--empty] | drift';

function schemaInput(): SchemaDiffInput {
  return {
    migrationsDir: defaultMigrationsDir,
    schemaPath: defaultSchemaPath,
    adminUrl: process.env.PG_ADMIN_URL ?? process.env.TEST_PG_ADMIN_URL ?? defaultAdminUrl,
  };
}

async function deploy(): Promise<number> {
  // Past a pooler such as PgBouncer when there is one: long DDL should not hold a pooled server connection.
  const url = process.env.DATABASE_DIRECT_URL || process.env.DATABASE_URL;
  if (!url) {
    console.error('DATABASE_URL (or DATABASE_DIRECT_URL) is not set');
    return 2;
  }
  const { applied } = await migrateDeploy(url, { log: (line) => console.log(line) });
  console.log(applied.length ? `Applied ${applied.length} migration(s).` : 'Database is up to date.');
  return 0;
}

async function newMigration(args: string[]): Promise<number> {
  const name = args.find((arg) => !arg.startsWith('--'));
  if (!name) {
    console.error(usage);
    return 2;
  }
  const result = await createMigration({ ...schemaInput(), name, allowEmpty: args.includes('--empty') });
  if (!result.migrationName) {
    console.log('schema.prisma and the migrations already agree: no migration written (use --empty for a hand-written one).');
    return 0;
  }
  if (result.summary) console.log(result.summary);
  console.log(`Wrote prisma/migrations/${result.migrationName}/migration.sql — review it (destructive steps carry no warning comment here), then commit it.`);
  return 0;
}

async function drift(): Promise<number> {
  const started = Date.now();
  const diff = await diffMigrationsToSchema(schemaInput());
  if (!diff.changed) {
    console.log(`No drift: the migrations produce schema.prisma (${Date.now() - started} ms).`);
    return 0;
  }
  console.error('Drift: schema.prisma differs from what the migrations build.\n');
  console.error(diff.summary.trim());
  console.error('\nSQL that would close the gap:\n');
  console.error(diff.script.trim());
  console.error('\nRun `npm run db:migration:new -- <name>` to write it as a migration.');
  return 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'deploy':
      return deploy();
    case 'new':
      return newMigration(args);
    case 'drift':
      return drift();
    default:
      console.error(usage);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // MigrationError messages are written for people; anything else keeps its stack.
    console.error(error instanceof MigrationError ? `${error.code}: ${error.message}` : error);
    process.exit(1);
  },
);
