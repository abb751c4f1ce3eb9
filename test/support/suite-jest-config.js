/**
 * Jest config of one heavier suite (test/<name>/): VMs or a browser, one test file at a
 * time, on the run's own database (the same global setup as `npm test`).
 */
const path = require('node:path');

module.exports = function suiteJestConfig(name, testTimeout) {
  return {
    rootDir: path.resolve(__dirname, '../..'),
    displayName: name,
    testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
    transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
    testEnvironment: 'node',
    moduleFileExtensions: ['ts', 'js', 'json'],
    globalSetup: '<rootDir>/test/support/global-setup.ts',
    globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    testTimeout,
    maxWorkers: 1,
  };
};
