export { migrateDeploy, pendingMigrations } from './deploy';
export type { MigrateDeployOptions, MigrateDeployResult } from './deploy';
export { MigrationError } from './migration.error';
export type { MigrationErrorCode } from './migration.error';
export { checksumOf } from './migration-files';
export type { SqlQueryable } from './migrations-table';
export { withDatabase } from './database-url';
export { createDatabase, defaultAdminUrl, dropDatabase, uniqueDatabaseName } from './scratch-database';
export type { ScratchDatabase } from './scratch-database';
