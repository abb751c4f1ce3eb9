/**
 * `npm run test:boot`: a VM whose NIC ROM is iPXE boots from a LUN the API created on a
 * real tgtd, and on LIO in the storage-host VM of test/vm (its image is built once per
 * machine and cached). Separate from `npm test` because it needs qemu (qemu-system-x86,
 * ipxe-qemu) and tgtd, runs VMs under TCG and takes about two minutes. It fails, never
 * skips, when qemu is missing or the storage VM cannot boot.
 */
module.exports = require('../support/suite-jest-config')('boot', 180_000);
