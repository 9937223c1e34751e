#!/bin/bash
# PID 1 of the test VM after switch_root (root = host's / read-only + tmpfs overlay; see init).
# Sets the guest up as a pure cgroup v2 "container host", runs the tests run.sh listed in the
# out share (/mnt/out, a directory on the host) and reports back:
#   /mnt/out/results   one line per test: PASS|FAIL <rc> <seconds> <name>
#   /mnt/out/status    the overall status (a number)
#   port 0xf4          isa-debug-exit: v = min(status,125)+1, QEMU exits with (v<<1)|1
# run.sh cross-checks the last two; anything else (panic, poweroff, timeout) is a failure.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
OUT=/mnt/out
CG=/sys/fs/cgroup
stty -onlcr -F /dev/console 2>/dev/null   # plain \n on the serial console
say() { echo "vm: $*"; }

report() {   # report STATUS: never returns
  local st=$1 v
  echo "$st" > $OUT/status; sync
  v=$st; [ "$v" -gt 125 ] && v=125; [ "$v" -lt 0 ] && v=125
  say "guest uptime $(cut -d' ' -f1 /proc/uptime)s, status $st"
  printf "\\$(printf %o $((v + 1)))" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  echo o > /proc/sysrq-trigger; sleep 30   # fallback: power off (run.sh treats that as a failure)
  exit "$st"
}
setup_failed() { say "SETUP FAILED: $*"; report 125; }

# --- the host as a cgroup v2 container host would be (systemd-like: PID 1 in init.scope) ---
mount -t cgroup2 -o nsdelegate cgroup2 $CG || setup_failed "mount cgroup2"
mkdir -p $CG/init.scope && echo $$ > $CG/init.scope/cgroup.procs || setup_failed "init.scope"
for c in $(cat $CG/cgroup.controllers); do echo "+$c" > $CG/cgroup.subtree_control || setup_failed "enable $c"; done
mkdir -p $CG/vmtest.scope
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts && ln -sf pts/ptmx /dev/ptmx 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
CWD=$(cat $OUT/cwd)
# overlay upper dirs cannot live on the overlay root: /tmp is a tmpfs, unless the checkout lives
# under /tmp (it would hide it), then TMPDIR goes to the scratch disk
case "$CWD/" in /tmp/*) ;; *) mount -t tmpfs -o mode=1777 tmpfs /tmp ;; esac
mkdir -p /mnt/scratch
if [ -b /dev/vda ]; then mount -t ext4 /dev/vda /mnt/scratch || setup_failed "mount scratch disk"; else setup_failed "no scratch disk /dev/vda"; fi
mkdir -p /mnt/scratch/lib /mnt/scratch/log /mnt/scratch/tmp /var/lib/minipod /var/log/minipod /run/minipod
chmod 1777 /mnt/scratch/tmp
mount --bind /mnt/scratch/lib /var/lib/minipod
mount --bind /mnt/scratch/log /var/log/minipod
ip link set lo up 2>/dev/null
hostname minipod-vm

export MINIPOD_RUN_DIR=/run/minipod MINIPOD_LIB_DIR=/var/lib/minipod MINIPOD_LOG_DIR=/var/log/minipod
export MINIPOD_CGROUP_ROOT=$CG MINIPOD_CGROUP_PARENT=minipod MINIPOD_IN_VM=1 CI=1 NO_COLOR=1
case "$CWD/" in /tmp/*) export TMPDIR=/mnt/scratch/tmp ;; esac
[ -f $OUT/env ] && . $OUT/env

say "kernel $(uname -r), $(nproc) vCPUs, $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) MiB, booted in $(cut -d' ' -f1 /proc/uptime)s"
say "cgroup2 at $CG ($(awk '$2=="/sys/fs/cgroup"{print $4}' /proc/mounts))"
say "cgroup v2 controllers available: $(cat $CG/cgroup.controllers)"
say "cgroup v2 controllers enabled at the root (subtree_control): $(cat $CG/cgroup.subtree_control)"
say "node $(node --version 2>&1), cwd $CWD, state on the scratch disk: MINIPOD_LIB_DIR=$MINIPOD_LIB_DIR"

# --- the tests: one per line in $OUT/tests, "name<TAB>command" ---
: > $OUT/results
n=0; failed=0; last=0
total=$(grep -c . $OUT/tests)
while IFS=$'\t' read -r name cmd <&3; do
  [ -n "$name" ] || continue
  n=$((n + 1))
  echo; say "===== [$n/$total] $name"
  t0=$(date +%s.%N)
  # each test runs in vmtest.scope, stdin /dev/null, stdout a fifo to the console (no tty: plain
  # vitest output). Only the test's own process is waited for: a process it leaked that still holds
  # the fifo is reported and killed, it must not hang the run until the host's timeout.
  rm -f /run/vmtest.out && mkfifo /run/vmtest.out
  cat /run/vmtest.out & catpid=$!
  bash -c 'echo $$ > /sys/fs/cgroup/vmtest.scope/cgroup.procs && cd "$0" && eval "$1"' "$CWD" "$cmd" \
    </dev/null >/run/vmtest.out 2>&1
  rc=$?
  leaked=$(cat $CG/vmtest.scope/cgroup.procs)
  if [ -n "$leaked" ]; then
    say "WARNING: $name left processes behind, killing them:"
    for p in $leaked; do echo "  $p $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null)"; done
    echo 1 > $CG/vmtest.scope/cgroup.kill
  fi
  # cat ends when the last writer is gone; give processes outside vmtest.scope 5 s more
  ( sleep 5; kill $catpid ) 2>/dev/null & killer=$!
  wait $catpid 2>/dev/null
  kill $killer 2>/dev/null; wait $killer 2>/dev/null
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  if [ "$rc" = 0 ]; then r=PASS; else r=FAIL; failed=$((failed + 1)); fi
  last=$rc
  say "===== [$n/$total] $r $name (exit $rc, ${secs}s, guest uptime $(cut -d' ' -f1 /proc/uptime)s)"
  printf '%s %s %s %s\n' "$r" "$rc" "$secs" "$name" >> $OUT/results
done 3< $OUT/tests

# leftovers: cgroups other than the harness's, processes still in vmtest.scope
left=$(cd $CG && find . -mindepth 1 -maxdepth 2 -type d ! -path ./init.scope ! -path ./vmtest.scope | sed 's|^\./||' | tr '\n' ' ')
[ -n "$left" ] && say "WARNING: cgroups left after the tests: $left"

if [ "$(cat $OUT/mode 2>/dev/null)" = cmd ]; then status=$last; else status=$failed; fi
report "$status"
