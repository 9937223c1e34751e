#!/usr/bin/env bash
# Builds what the cgroup v2 test VM needs into .cache/vm/ (gitignored), from Debian packages only:
#   vmlinux        Debian 12's kernel (linux-image-<version>-amd64), uncompressed ELF: QEMU boots it
#                  via PVH and skips ~2 s of xz decompression under TCG
#   kernel/        the unpacked .deb (dpkg-deb -x; never installed into /boot), its full module tree
#                  is bind-mounted at /lib/modules in the guest so modules autoload
#   initramfs.gz   static busybox + the modules needed to reach the root fs, plus veth/bridge/nf_tables
# Cached and idempotent: a second run only checks a stamp. Concurrent runs serialise on a lock.
# Env: VM_CACHE (default <repo>/.cache/vm), KERNEL_PKG (default: what linux-image-amd64 depends on).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${VM_CACHE:-$REPO/.cache/vm}
BUSYBOX=${BUSYBOX:-/bin/busybox}
# Modules loaded by the initramfs (dependencies are added from modules.dep).
MODULES=(virtio_pci virtio_blk 9pnet_virtio 9p overlay ext4 crc32c_generic veth bridge nf_tables)

log() { echo "vm-build: $*" >&2; }
mkdir -p "$CACHE/debs"
exec 9>"$CACHE/build.lock"
flock 9

for t in dpkg-deb xz gzip flock; do command -v $t >/dev/null || { log "missing tool: $t (run scripts/install-deps.sh)"; exit 1; }; done
"$BUSYBOX" cpio --help >/dev/null 2>&1 || { log "need busybox-static at $BUSYBOX (apt-get install busybox-static)"; exit 1; }

# 1. which kernel: the versioned package behind the linux-image-amd64 metapackage
resolve_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
PKG=${KERNEL_PKG:-$(resolve_pkg)}
if [ -z "$PKG" ]; then
  if [ -s "$CACHE/kernel.pkg" ]; then PKG=$(cat "$CACHE/kernel.pkg"); log "apt cannot resolve linux-image-amd64; reusing cached $PKG"
  else log "apt-get update (no apt lists)"; apt-get update -qq; PKG=$(resolve_pkg); fi
fi
[ -n "$PKG" ] || { log "cannot resolve the kernel package"; exit 1; }
KV=${PKG#linux-image-}

STAMP="$PKG $(cat "$HERE/build.sh" "$HERE/init" | sha256sum | cut -c1-16) $(sha256sum < "$BUSYBOX" | cut -c1-16)"
if [ -f "$CACHE/vmlinux" ] && [ -f "$CACHE/initramfs.gz" ] && [ "$(cat "$CACHE/build.stamp" 2>/dev/null)" = "$STAMP" ]; then
  log "up to date ($PKG)"; exit 0
fi
log "building kernel + initramfs for $PKG into $CACHE"

deb=$(ls "$CACHE"/debs/"${PKG}"_*.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
  tmp=$(mktemp -d "$CACHE/debs/dl.XXXXXX")
  (cd "$tmp" && apt-get download -q "$PKG" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
  mv "$tmp"/"${PKG}"_*.deb "$CACHE/debs/" || { rm -rf "$tmp"; log "apt-get download $PKG failed"; exit 1; }
  rm -rf "$tmp"
  deb=$(ls "$CACHE"/debs/"${PKG}"_*.deb | tail -1)
  # keep only this version's .deb
  find "$CACHE/debs" -maxdepth 1 -name 'linux-image-*.deb' ! -name "$(basename "$deb")" -delete
fi
rm -rf "$CACHE/kernel" "$CACHE/kernel.new"
dpkg-deb -x "$deb" "$CACHE/kernel.new"
M=$CACHE/kernel.new/lib/modules/$KV
[ -d "$M" ] || { log "no modules dir $M in $deb"; exit 1; }
"$BUSYBOX" depmod -b "$CACHE/kernel.new" "$KV"   # modules.dep/alias for busybox modprobe (no kmod needed)

# uncompressed vmlinux from the bzImage (Debian: CONFIG_KERNEL_XZ)
vmlinuz=$CACHE/kernel.new/boot/vmlinuz-$KV
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)
[ -n "$off" ] || { log "no xz payload in $vmlinuz"; exit 1; }
tail -c +$((off + 1)) "$vmlinuz" | xz -dc --single-stream > "$CACHE/vmlinux.new" 2>/dev/null || true
head -c 4 "$CACHE/vmlinux.new" | grep -q ELF || { log "vmlinux extraction failed"; exit 1; }

# 2. initramfs: static busybox + modules (with their dependencies) + init
I=$CACHE/initramfs.d
rm -rf "$I" && mkdir -p "$I"/{bin,proc,sys,dev,mnt,newroot}
cp "$BUSYBOX" "$I/bin/busybox"
for m in "${MODULES[@]}"; do
  line=$(grep -E "(^|/)$m\.ko(\.[gx]z|\.zst)?:" "$M/modules.dep" || true)
  [ -n "$line" ] || { grep -qE "/$m\.ko" "$M/modules.builtin" 2>/dev/null && continue; log "module $m not found"; exit 1; }
  for f in ${line/:/}; do
    mkdir -p "$I/lib/modules/$KV/$(dirname "$f")"; cp "$M/$f" "$I/lib/modules/$KV/$f"
  done
done
cp "$M"/modules.builtin* "$I/lib/modules/$KV/" 2>/dev/null || true
"$BUSYBOX" depmod -b "$I" "$KV"
install -m 0755 "$HERE/init" "$I/init"
echo "${MODULES[*]}" > "$I/modules"
(cd "$I" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) > "$CACHE/initramfs.gz.new"
rm -rf "$I"

mv "$CACHE/kernel.new" "$CACHE/kernel"
mv "$CACHE/vmlinux.new" "$CACHE/vmlinux"
mv "$CACHE/initramfs.gz.new" "$CACHE/initramfs.gz"
echo "$PKG" > "$CACHE/kernel.pkg"
echo "$STAMP" > "$CACHE/build.stamp"
log "done: $(du -h "$CACHE/vmlinux" | cut -f1) vmlinux, $(du -h "$CACHE/initramfs.gz" | cut -f1) initramfs ($KV)"
