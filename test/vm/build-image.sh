#!/usr/bin/env bash
# Builds the storage-host VM image (issue 6): a Debian 12 guest with LIO (targetcli-fb,
# python3-rtslib-fb), LVM and a command agent on virtio-serial. Runs as root on the host.
#
#   test/vm/build-image.sh OUT_DIR
#
# Writes OUT_DIR/{vmlinuz,initrd.img,rootfs.ext4,kernel-version}. storage-vm.ts calls this
# only when /var/cache/bootlun-vm/<hash of this script and guest/>/ is missing, so the
# image is built once per machine. Needs: debootstrap, apt-get (host apt lists), cpio, mke2fs.
set -euo pipefail

OUT=${1:?usage: build-image.sh OUT_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=bookworm
# The Debian mirror this host's apt already uses for $SUITE main (sources.list or deb822
# .sources alike, as apt itself reads them), so the build names no host of its own and
# goes where this machine is allowed to go. BOOTLUN_VM_MIRROR overrides it. The suite is
# matched as written in the sources or, once apt-get update has run, by its codename
# (sources that say "oldstable"); --no-release-info lists sources never updated.
host_mirror() {
  local format='$(TARGET_OF) $(IDENTIFIER) $(COMPONENT) $(RELEASE) $(CODENAME) $(REPO_URI)' targets
  targets=$({ apt-get indextargets --format "$format"; apt-get indextargets --no-release-info --format "$format"; } 2>/dev/null || true)
  awk -v suite="$SUITE" '$1 == "deb" && $2 == "Packages" && $3 == "main" && ($4 == suite || $5 == suite) { print $6; exit }' <<<"$targets"
}
MIRROR=${BOOTLUN_VM_MIRROR:-$(host_mirror)}
[ -n "$MIRROR" ] || { echo "no apt source for Debian $SUITE main on this host: add one (and apt-get update), or set BOOTLUN_VM_MIRROR" >&2; exit 1; }
KERNEL_META=linux-image-amd64
# Packages of the guest: LIO tooling, LVM with the thin-pool tools (lvm2 only recommends
# them, and minbase installs no recommends; LVM runs thin_check on every pool activation
# and refuses to activate a pool without it), a system D-Bus (targetcli-fb needs one), ip,
# mkfs; kmod only to compute module dependencies at build time.
PACKAGES=targetcli-fb,python3-rtslib-fb,lvm2,thin-provisioning-tools,dbus,e2fsprogs,iproute2,kmod
# Modules the initramfs loads (dependencies are added). Everything LIO, LVM (thin pools
# included) and the virtio devices need; the root file system then needs no module loading.
MODULES="virtio_pci virtio_blk virtio_net virtio_console ext4 crc32c_generic configfs dm_mod
  dm_thin_pool target_core_mod target_core_file target_core_iblock iscsi_target_mod"

WORK=$(mktemp -d /var/tmp/bootlun-vm-build.XXXXXX)
cleanup() {
  local rc=$?
  # debootstrap mounts /proc and /sys in the new root; never rm -rf through a mount.
  { grep -o " $WORK/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf --one-file-system "$WORK" || true
  exit "$rc" # the build's own status, not the cleanup's
}
trap cleanup EXIT
ROOT=$WORK/root
t0=$(date +%s)
log() { echo "[build-image +$(( $(date +%s) - t0 ))s] $*" >&2; }

log "debootstrap $SUITE (minbase) from $MIRROR"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -n 40 "$WORK/debootstrap.log" >&2; exit 1; }

log "kernel and busybox debs"
mkdir -p "$WORK/debs" && cd "$WORK/debs"
KPKG=$(apt-cache depends "$KERNEL_META" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$KPKG" ] || { echo "cannot resolve $KERNEL_META (run apt-get update)" >&2; exit 1; }
apt-get download -q "$KPKG" busybox-static >/dev/null
KVER=${KPKG#linux-image-}
mkdir -p "$WORK/kernel" "$WORK/busybox"
dpkg-deb -x "$KPKG"_*.deb "$WORK/kernel"
dpkg-deb -x busybox-static_*.deb "$WORK/busybox"
cd "$WORK"

log "initramfs for $KVER"
# Module dependencies, computed with the guest's own kmod inside the new root.
mkdir -p "$ROOT/tmp/k/lib/modules"
cp -a "$WORK/kernel/lib/modules/$KVER" "$ROOT/tmp/k/lib/modules/"
chroot "$ROOT" depmod -b /tmp/k "$KVER"
INITRD=$WORK/initrd
mkdir -p "$INITRD"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$WORK/busybox/bin/busybox" "$INITRD/bin/busybox"
for applet in sh mount umount insmod switch_root sleep cat mkdir ls echo; do ln -s busybox "$INITRD/bin/$applet"; done
: >"$INITRD/modules.order"
for m in $MODULES; do
  chroot "$ROOT" modprobe -d /tmp/k -S "$KVER" --show-depends "$m" | while read -r kind path _; do
    [ "$kind" = insmod ] || continue
    name=$(basename "$path")
    grep -qx "$name" "$INITRD/modules.order" && continue
    cp "$ROOT$path" "$INITRD/lib/modules/$name"
    echo "$name" >>"$INITRD/modules.order"
  done
done
rm -rf "$ROOT/tmp/k"
install -m 0755 "$HERE/guest/initramfs-init" "$INITRD/init"
(cd "$INITRD" && find . | cpio -o -H newc --quiet) >"$WORK/initrd.img"

log "guest files"
install -m 0755 "$HERE/guest/bootlun-init" "$ROOT/sbin/bootlun-init"
install -m 0755 "$HERE/guest/bootlun-agent.py" "$ROOT/usr/local/sbin/bootlun-agent"
# No udev in the guest: LVM must neither wait for udev nor expect its rules to make nodes.
sed -i -E 's/^(\s*)#?\s*udev_sync = [01]/\1udev_sync = 0/; s/^(\s*)#?\s*udev_rules = [01]/\1udev_rules = 0/; s/^(\s*)#?\s*monitoring = [01]/\1monitoring = 0/' "$ROOT/etc/lvm/lvm.conf"
grep -Eq '^\s*udev_sync = 0' "$ROOT/etc/lvm/lvm.conf" && grep -Eq '^\s*udev_rules = 0' "$ROOT/etc/lvm/lvm.conf" \
  || { echo "lvm.conf: could not disable udev sync" >&2; exit 1; }
mkdir -p "$ROOT/root/.targetcli" "$ROOT/srv/bootlun" "$ROOT/etc/rtslib-fb-target"
echo storage-vm >"$ROOT/etc/hostname"
chroot "$ROOT" sh -c 'command -v targetctl && command -v targetcli && python3 -c "import rtslib_fb"' >/dev/null \
  || { echo "guest lacks targetctl/targetcli/rtslib_fb" >&2; exit 1; }
chroot "$ROOT" sh -c 'command -v thin_check && command -v thin_repair' >/dev/null \
  || { echo "guest lacks thin_check/thin_repair (thin-provisioning-tools)" >&2; exit 1; }
grep -q '^dm-thin-pool\.ko' "$INITRD/modules.order" || { echo "initramfs lacks dm-thin-pool.ko" >&2; exit 1; }
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc "$ROOT"/usr/share/man "$ROOT"/usr/share/locale

log "rootfs.ext4"
SIZE_MB=$(( $(du -sm "$ROOT" | cut -f1) * 13 / 10 + 128 ))
mke2fs -q -t ext4 -L bootlun-root -d "$ROOT" "$WORK/rootfs.ext4" "${SIZE_MB}M"

mkdir -p "$OUT"
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
mv "$WORK/initrd.img" "$WORK/rootfs.ext4" "$OUT/"
echo "$KVER" >"$OUT/kernel-version"
log "done: $OUT ($(du -sh "$OUT" | cut -f1))"
