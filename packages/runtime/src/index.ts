export * from './logger';
export * from './services';
