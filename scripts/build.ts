/**
 * `npm run build`: the production bundles in dist/ — one JavaScript file per process
 * (API, worker, the migration and API-key CLIs), run with plain `node`, no TypeScript
 * loader. Type checking stays with `npm run typecheck`; esbuild only strips types.
 *
 * The API and the CLIs bundle our workspace packages (@bootlun/*) and load everything
 * from node_modules at run time (swagger-ui's assets, Prisma's schema engine). The worker
 * is self-contained: a storage host gets `dist/worker.js` (and `rtslib-dump.py` for the
 * targetcli driver) and the `node` binary, no node_modules and no npm (README: "Install
 * the worker on a storage host").
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

/** What a storage host needs from dist/: the worker and the files it reads beside itself. */
export const STORAGE_HOST_FILES = ['worker.js', 'rtslib-dump.py'];

/** Files read at run time next to the code that reads them (`__dirname` is dist/ in a bundle). */
const ASSETS = ['packages/targets/src/lio/rtslib-dump.py'];

/** Bare imports stay external unless they name one of our workspace packages. */
const nodeModulesExternal: Plugin = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@bootlun/') ? undefined : { path: args.path, external: true }));
  },
};

/** Builds every bundle into `outDir` (emptied first). Tests build the storage host's worker this way too. */
export async function buildProduction(outDir: string = OUT): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const common = { absWorkingDir: ROOT, outdir: outDir, bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' } as const;
  const { worker, ...withNodeModules } = ENTRY_POINTS;
  await Promise.all([
    build({ ...common, entryPoints: withNodeModules, plugins: [nodeModulesExternal] }),
    // pg-native: an optional addon pg loads only when asked for; pino-pretty: a transport pino loads by name, development only.
    build({ ...common, entryPoints: { worker }, external: ['pg-native', 'pino-pretty'] }),
  ]);
  for (const asset of ASSETS) copyFileSync(path.join(ROOT, asset), path.join(outDir, path.basename(asset)));
}

if (require.main === module) {
  buildProduction().then(
    () => process.stdout.write(`built ${Object.keys(ENTRY_POINTS).map((n) => `dist/${n}.js`).join(', ')}\n`),
    (err: Error) => {
      process.stderr.write(`build failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
