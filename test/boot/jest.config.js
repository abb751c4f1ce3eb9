/**
 * `npm run test:boot`: a VM whose NIC ROM is iPXE boots from a LUN the API created on a
 * real tgtd. Separate from `npm test` because it needs qemu (qemu-system-x86, ipxe-qemu)
 * and tgtd, runs VMs under TCG and takes about a minute. It fails, never skips, when
 * qemu is missing.
 */
const path = require('node:path');

module.exports = {
  rootDir: path.resolve(__dirname, '../..'),
  displayName: 'boot',
  testMatch: ['<rootDir>/test/boot/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 180_000,
  maxWorkers: 1,
};
