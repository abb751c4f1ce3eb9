export * from './job-catalog';
export * from './queue-connection';
export * from './redis-topology';
export * from './queue-registry';
export * from './bull-operation-dispatcher';
export * from './outbox-sweeper';
export * from './reconcile-schedule';
