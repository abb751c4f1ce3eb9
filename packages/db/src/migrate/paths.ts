import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The checkout (or image) root: the nearest directory above this code that holds
 * prisma/migrations. Resolved from this file, not the cwd, so the API, the worker, jest and
 * the CLI all find the same folder wherever they are started from, from the TypeScript
 * sources as from the bundles in dist/.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'prisma', 'migrations'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..', '..', '..');
  }
}
const repoRoot = findRoot(__dirname);

export const defaultMigrationsDir = path.join(repoRoot, 'prisma', 'migrations');
export const defaultSchemaPath = path.join(repoRoot, 'prisma', 'schema.prisma');
