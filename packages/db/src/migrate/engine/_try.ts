import { readFileSync } from 'node:fs';
import { defaultSchemaPath } from '../paths';
import { SchemaEngineAdapterFactory } from './engine-adapter';
import { openSchemaEngine } from './schema-engine';

async function main() {
  const admin = 'postgresql://postgres@127.0.0.1:5432/postgres';
  const engine = await openSchemaEngine({
    schema: { path: defaultSchemaPath, content: readFileSync(defaultSchemaPath, 'utf8') },
    adapterFactory: new SchemaEngineAdapterFactory(admin, admin),
    log: (l) => console.error('LOG', l),
  });
  const t = Date.now();
  const { migrationsList } = await import('./migrations-list');
  const res = await engine.diff({ from: { tag: 'migrations', ...migrationsList('/work/main/prisma/migrations') }, to: { tag: 'schemaDatamodel', files: [{ path: defaultSchemaPath, content: readFileSync(defaultSchemaPath, 'utf8') }] }, script: true, exitCode: null, filters: { externalTables: [], externalEnums: [] } });
  console.log(JSON.stringify(res.exitCode), Date.now() - t);
  console.log(res.stdout);
  engine.free();
}
main().catch((e) => { console.error('ERR', e, e?.code, e?.message); process.exit(1); });
