#!/usr/bin/env bash
# npm run test:vm  —  minipod's root integration tests on a real, pure cgroup v2 kernel.
#
# Usage: test/vm/run.sh                 run the VM_TESTS below in the guest
#        test/vm/run.sh -- CMD [ARG...]  run one command in the guest, in the checkout
# Boots Debian 12's kernel (test/vm/build.sh, cached in .cache/vm/) under QEMU: the host's / is the
# guest's root (read-only 9p + tmpfs overlay), a fresh ext4 scratch disk holds /var/lib/minipod,
# cgroup2 is mounted at /sys/fs/cgroup with every controller enabled (see guest.sh).
# Exit status: the command's status (-- CMD), or the number of failed VM_TESTS (default);
# 99 when the VM itself failed (panic, timeout, no or inconsistent status from the guest).
#
# Env: VM_TESTS="a b"  replaces the list below      VM_TIMEOUT=1800  seconds, then qemu is killed
#      VM_ACCEL=auto|kvm|tcg  VM_MEM=3072 (MiB)  VM_SMP=2  VM_DISK=8G (sparse scratch disk)
#      VM_SKIP_DEPS=1  do not run scripts/install-deps.sh on the host first
#      VM_PREPARE_ONLY=1  prepare the host (deps, dist/, build/rootfs/) and exit without the VM
#      VM_ENV="NAME ..."  host variables passed to the guest (BREAK and DEBUG always are)
#      VM_KEEP=1  keep the run directory (console.log, results) under .cache/vm/
set -euo pipefail

# The tests run in the VM, in order. *.sh: bash; test/integration/*.test.ts: vitest's integration
# project; test/vm/*.test.ts: vitest with test/vm/vitest.vm.config.ts. Grow this list as the pod
# tests land; keep the whole VM run well inside CI's time limit (TCG: ~10x slower than the host).
# Measured under TCG: smoke 3 s, cgroups 13 s, pod-cgroups 35 s, pod-core 50-80 s, lifecycle 94 s,
# exec 37 s (network.test.ts passes too: 26 s).
DEFAULT_VM_TESTS=(
  test/vm/smoke.sh
  test/integration/cgroups.test.ts
  test/integration/pod-cgroups.test.ts
  test/integration/pod-core.test.ts
  test/integration/lifecycle.test.ts
  test/integration/exec.test.ts
  test/integration/cgroup-view.test.ts
)

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${VM_CACHE:-$REPO/.cache/vm}
TIMEOUT=${VM_TIMEOUT:-1800}
log() { echo "test:vm: $*" >&2; }
case "$REPO" in *[[:space:]]*) log "the checkout path must not contain spaces: $REPO"; exit 99 ;; esac

mode=list; CMD=()
if [ $# -gt 0 ]; then
  [ "$1" = -- ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
  shift; [ $# -gt 0 ] || { log "-- needs a command"; exit 2; }
  mode=cmd; CMD=("$@")
fi
if [ -n "${VM_TESTS:-}" ]; then read -r -a TESTS <<< "$VM_TESTS"; else TESTS=("${DEFAULT_VM_TESTS[@]}"); fi

# --- host side: checks, dependencies, kernel + initramfs ---
bash "$HERE/check-vagrantfile.sh"
if [ "${VM_SKIP_DEPS:-}" != 1 ]; then
  log "scripts/install-deps.sh (VM_SKIP_DEPS=1 skips it)"
  bash "$REPO/scripts/install-deps.sh"
elif [ ! -f "$REPO/dist/bundle/cli.mjs" ]; then
  # install-deps.sh builds; without it a fresh checkout has no dist/ for the guest to run.
  log "npm run build (dist/ is missing)"
  (cd "$REPO" && npm run --silent build)
fi
# The tests' root filesystems (build/rootfs/*.tar): the guest runs pods from them. build-all.sh
# skips every tarball whose inputs did not change, so this costs nothing once they are built.
log "rootfs-tools/build-all.sh (skipped when up to date)"
bash "$REPO/rootfs-tools/build-all.sh"
if [ "${VM_PREPARE_ONLY:-}" = 1 ]; then log "host prepared (VM_PREPARE_ONLY=1): not booting"; exit 0; fi
bash "$HERE/build.sh"

RUN=$(mktemp -d "$CACHE/run.XXXXXX")
QPID=
cleanup() {
  local rc=$?
  # VM_RESULTS_DIR: keep the per-test results and vitest's JSON reports (scripts/test.sh counts them)
  if [ -n "${VM_RESULTS_DIR:-}" ] && [ -d "$RUN/out" ]; then
    mkdir -p "$VM_RESULTS_DIR" && cp -r "$RUN/out/results" "$RUN/out/json" "$VM_RESULTS_DIR/" 2>/dev/null || true
  fi
  if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null || true; fi
  if [ "${VM_KEEP:-}" = 1 ]; then log "kept $RUN"; else rm -rf "$RUN"; fi
  exit $rc
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM
OUT=$RUN/out; mkdir -p "$OUT/json"

# --- what the guest runs ---
echo "$REPO" > "$OUT/cwd"
echo "$mode" > "$OUT/mode"
if [ $mode = cmd ]; then
  printf '%s\t%s\n' "${CMD[*]}" "$(printf '%q ' "${CMD[@]}")" > "$OUT/tests"
else
  : > "$OUT/tests"
  for t in "${TESTS[@]}"; do
    case "$t" in
      *.sh)                     c="bash $(printf '%q' "$t")" ;;
      test/vm/*.test.ts)        c="node_modules/.bin/vitest run --reporter=verbose --reporter=json --outputFile=/mnt/out/json/$(basename "$t").json --config test/vm/vitest.vm.config.ts $(printf '%q' "$t")" ;;
      *.test.ts)                c="node_modules/.bin/vitest run --reporter=verbose --reporter=json --outputFile=/mnt/out/json/$(basename "$t").json --project integration $(printf '%q' "$t")" ;;
      *) log "VM_TESTS: do not know how to run $t"; exit 2 ;;
    esac
    # a listed file that does not exist is a failure, not a skip
    [ -f "$REPO/$t" ] || c="echo 'test:vm: $t does not exist'; exit 1"
    printf '%s\t%s\n' "$t" "$c" >> "$OUT/tests"
  done
fi
: > "$OUT/env"
for v in BREAK DEBUG ${VM_ENV:-}; do
  [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}" >> "$OUT/env"
done

# --- a fresh sparse ext4 scratch disk (a plain file: no loop device) ---
truncate -s "${VM_DISK:-8G}" "$RUN/scratch.img"
mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 "$RUN/scratch.img"

# --- accelerator: KVM only if it really works (nested/PVM KVM can abort on a stock kernel) ---
accel=${VM_ACCEL:-auto}
if [ "$accel" = auto ]; then
  accel=tcg
  if [ -w /dev/kvm ]; then
    kvm_rc=$( (timeout 2 qemu-system-x86_64 -accel kvm -cpu host -m 64 -nodefaults -no-user-config \
      -display none -no-reboot </dev/null >/dev/null 2>&1; echo $?) 2>/dev/null )
    # still running after 2 s (killed by timeout, 124) = KVM runs guest code
    [ $kvm_rc = 124 ] && accel=kvm
  fi
fi
case $accel in
  kvm) ACCEL=(-accel kvm -cpu host) ;;
  tcg) ACCEL=(-accel tcg,thread=multi -cpu max) ;;
  *) log "VM_ACCEL must be auto, kvm or tcg"; exit 2 ;;
esac

log "booting $(cat "$CACHE/kernel.pkg") ($accel, ${VM_SMP:-2} vCPUs, ${VM_MEM:-3072} MiB, timeout ${TIMEOUT}s)"
t0=$(date +%s.%N)
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${ACCEL[@]}" -smp "${VM_SMP:-2}" -m "${VM_MEM:-3072}" \
  -nodefaults -no-user-config -display none -no-reboot \
  -chardev stdio,id=con,signal=off,logfile="$RUN/console.log" -serial chardev:con \
  -kernel "$CACHE/vmlinux" -initrd "$CACHE/initramfs.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3 vmguest=$HERE/guest.sh kdir=$CACHE/kernel" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$OUT",mount_tag=out,security_model=none \
  -drive file="$RUN/scratch.img",if=virtio,format=raw,cache=unsafe \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null &
QPID=$!
qrc=0; wait $QPID || qrc=$?
QPID=
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b-a}')

# --- decode: QEMU exits (v<<1)|1 with v = min(status,125)+1; the status file must agree ---
file=$(cat "$OUT/status" 2>/dev/null || true)
st=99; why=
if [ $qrc = 124 ] || [ $qrc = 137 ]; then why="timeout after ${TIMEOUT}s: qemu killed"
elif [ $((qrc % 2)) = 1 ] && [ $qrc -ge 3 ]; then
  dec=$(( (qrc - 3) / 2 ))
  if [[ "$file" =~ ^[0-9]+$ ]] && [ $(( file > 125 ? 125 : file )) = $dec ]; then st=$file
  else why="exit device says $dec, status file says '${file}'"; fi
else why="qemu exited $qrc without a status (kernel panic, poweroff or qemu error)"; fi

echo >&2
if [ -s "$OUT/results" ]; then
  log "results (guest seconds):"
  while read -r r rc s name; do printf '  %-4s %6ss  exit %-3s %s\n' "$r" "$s" "$rc" "$name" >&2; done < "$OUT/results"
fi
if [ -n "$why" ]; then log "VM FAILURE: $why (${secs}s)"; exit 99; fi
if [ "$st" = 0 ]; then log "OK (${secs}s wall, $accel)"; else log "FAILED: status $st (${secs}s wall, $accel)"; fi
[ "$st" -gt 255 ] && st=255
exit "$st"
