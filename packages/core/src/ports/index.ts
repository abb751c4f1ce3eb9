export * from './repositories.port';
export * from './operation-dispatcher.port';
export * from './secret-box.port';
export * from './sealed-secret.repository.port';
export * from './audit-log.port';
export * from './target-driver.port';
export * from './image-importer.port';
export * from './backing-cloner.port';
