/**
 * `npm run build`: the production bundles in dist/ — one JavaScript file per process
 * (API, worker, the migration and API-key CLIs), run with plain `node`, no TypeScript
 * loader. Workspace packages (@bootlun/*, TypeScript sources) are bundled in; everything
 * from node_modules stays external and is loaded from there at run time (Prisma's runtime
 * and its query compiler, swagger-ui's assets, pino). Type checking stays with
 * `npm run typecheck`; esbuild only strips types.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist');

export const ENTRY_POINTS = {
  api: 'apps/api/src/main.ts',
  worker: 'apps/worker/src/main.ts',
  apikey: 'apps/api/src/cli/apikey.cli.ts',
  migrate: 'packages/db/src/migrate/cli.ts',
};

/** Files read at run time next to the code that reads them (`__dirname` is dist/ in a bundle). */
const ASSETS = ['packages/targets/src/lio/rtslib-dump.py'];

/** Bare imports stay external unless they name one of our workspace packages. */
const externalDependencies: Plugin = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@bootlun/') ? undefined : { path: args.path, external: true }));
  },
};

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRY_POINTS,
    outdir: OUT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    plugins: [externalDependencies],
    logLevel: 'warning',
  });
  for (const asset of ASSETS) copyFileSync(path.join(ROOT, asset), path.join(OUT, path.basename(asset)));
  process.stdout.write(`built ${Object.keys(ENTRY_POINTS).map((n) => `dist/${n}.js`).join(', ')}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`build failed: ${err.message}\n`);
  process.exit(1);
});
