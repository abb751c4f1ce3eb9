export * from './job-catalog';
export * from './queue-connection';
export * from './queue-registry';
export * from './bull-operation-dispatcher';
export * from './outbox-sweeper';
