/**
 * `npm run test:boot`: a VM whose NIC ROM is iPXE boots from a LUN the API created on a
 * real tgtd. Separate from `npm test` because it needs qemu (qemu-system-x86, ipxe-qemu)
 * and tgtd, runs VMs under TCG and takes about a minute. It fails, never skips, when
 * qemu is missing.
 */
module.exports = require('../support/suite-jest-config')('boot', 180_000);
