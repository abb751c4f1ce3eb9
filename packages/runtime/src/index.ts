export * from './logger';
export * from './services';
export * from './sealed-secrets';
