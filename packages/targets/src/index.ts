export * from './target-driver';
export * from './backing';
