export * from './common.schema';
export * from './backend.schema';
export * from './backing-location';
export * from './node.schema';
export * from './lun.schema';
export * from './operation.schema';
export * from './api-key.schema';
export * from './responses.schema';
