import { readFileSync } from 'node:fs';
import type { DiffTarget, SchemaEngine } from '@prisma/schema-engine-wasm';
import { withScratchDatabase } from '../scratch-database';
import { SchemaEngineAdapterFactory } from './engine-adapter';
import { migrationsList } from './migrations-list';
import { openSchemaEngine } from './schema-engine';

export interface SchemaDiffInput {
  migrationsDir: string;
  schemaPath: string;
  /** Server on which scratch databases (engine main + shadow) are created and dropped. */
  adminUrl: string;
}

export interface SchemaDiff {
  /** True when applying the migrations does not yield the schema. */
  changed: boolean;
  /** Human-readable summary, as `prisma migrate diff` prints it. */
  summary: string;
  /** The SQL that takes the migrations to the schema, as `prisma migrate dev` would write it. */
  script: string;
}

const noFilter = { externalTables: [], externalEnums: [] };

async function runDiff(engine: SchemaEngine, from: DiffTarget, to: DiffTarget, script: boolean): Promise<{ exitCode: number; stdout: string }> {
  const result = await engine.diff({ from, to, script, exitCode: true, filters: noFilter });
  return { exitCode: result.exitCode, stdout: result.stdout ?? '' };
}

/**
 * migrations folder -> schema.prisma, computed by Prisma's engine: it replays the migrations
 * on a shadow database, reads it back and diffs it with the datamodel. Everything happens in
 * databases created for this call and dropped afterwards.
 */
export async function diffMigrationsToSchema(input: SchemaDiffInput): Promise<SchemaDiff> {
  const schema = { path: input.schemaPath, content: readFileSync(input.schemaPath, 'utf8') };
  const from: DiffTarget = { tag: 'migrations', ...migrationsList(input.migrationsDir) };
  const to: DiffTarget = { tag: 'schemaDatamodel', files: [schema] };

  // The engine opens a "main" connection at start even for pure diffs: give it a throwaway one.
  return withScratchDatabase(input.adminUrl, 'prisma_main', async (main) => {
    const adapterFactory = new SchemaEngineAdapterFactory(main.url, input.adminUrl);
    const engine = await openSchemaEngine({ schema, adapterFactory });
    try {
      const summary = await runDiff(engine, from, to, false);
      // Exit code 2 is the engine's "non-empty diff" (the --exit-code contract of the CLI).
      if (summary.exitCode !== 2) return { changed: false, summary: '', script: '' };
      const script = await runDiff(engine, from, to, true);
      return { changed: true, summary: summary.stdout, script: script.stdout };
    } finally {
      engine.free();
      await adapterFactory.close();
    }
  });
}
