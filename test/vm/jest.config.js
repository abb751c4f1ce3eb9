/**
 * `npm run test:vm` (issue 6): the real worker drives a real LIO + LVM storage host, a
 * Debian 12 VM under qemu (TCG), through its command agent. Builds the VM image once per
 * machine (cached in /var/cache/bootlun-vm), boots it, and checks every access claim with
 * a real iSCSI login. Needs root, qemu-system-x86, debootstrap, libiscsi-bin. It fails,
 * never skips, when the image cannot be built or the VM cannot boot.
 */
module.exports = require('../support/suite-jest-config')('vm', 300_000);
