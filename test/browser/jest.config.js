/**
 * `npm run test:browser`: Debian's chromium, headless and driven by playwright-core, opens
 * the API's Swagger UI and the Bull Board dashboard. Separate from `npm test` because it
 * needs the chromium package (apt-get install -y chromium). It fails, never skips, when
 * chromium is missing.
 */
const path = require('node:path');

module.exports = {
  rootDir: path.resolve(__dirname, '../..'),
  displayName: 'browser',
  testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 1,
};
