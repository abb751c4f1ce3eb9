export * from './command-runner';
export * from './command-error';
export * from './redact';
export * from './spawn-runner';
export * from './run-cancellable';
export * from './recording-runner';
export * from './vm-agent-runner';
