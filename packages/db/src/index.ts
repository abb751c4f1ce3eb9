export { createPrismaClient } from './client';
// Models, enums and the Prisma namespace, so consumers never import the generated path.
export * from './generated/client';
export { MigrationError, migrateDeploy, pendingMigrations } from './migrate';
export type { MigrateDeployOptions, MigrateDeployResult, MigrationErrorCode } from './migrate';
export { createRepositories, mapPrismaError } from './repositories';
