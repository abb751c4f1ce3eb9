import path from 'node:path';

// Resolved from this file, not the cwd, so the API, the worker, jest and the CLI all find
// the same folder wherever they are started from.
const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');

export const defaultMigrationsDir = path.join(repoRoot, 'prisma', 'migrations');
export const defaultSchemaPath = path.join(repoRoot, 'prisma', 'schema.prisma');
