export { migrateDeploy, pendingMigrations } from './deploy';
export type { MigrateDeployOptions, MigrateDeployResult } from './deploy';
export { MigrationError } from './migration.error';
export type { MigrationErrorCode } from './migration.error';
