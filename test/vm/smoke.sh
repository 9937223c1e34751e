#!/usr/bin/env bash
# Shell smoke check of the VM's cgroup v2 (run inside the guest: test/vm/run.sh runs it first).
# Creates vm-smoke/oom under /sys/fs/cgroup, delegates memory/pids/cpu down the path, sets
# memory.max=32M, OOM-kills a dd and checks memory.events; then pids.max and cpu.max.
# BREAK=1 writes an invalid memory.max, which must make the check (and npm run test:vm) fail.
set -euo pipefail
CG=${MINIPOD_CGROUP_ROOT:-/sys/fs/cgroup}
P=$CG/vm-smoke; C=$P/oom
fails=0
ok()  { echo "smoke: PASS $*"; }
bad() { echo "smoke: FAIL $*"; fails=$((fails + 1)); }
rmcg() {   # cgroup.kill is asynchronous: wait for "populated 0", then rmdir
  local d=$1 i; [ -d "$d" ] || return 0
  echo 1 > "$d/cgroup.kill" 2>/dev/null || true
  for i in $(seq 50); do grep -q '^populated 0' "$d/cgroup.events" && break; sleep 0.1; done
  rmdir "$d" 2>/dev/null || { echo "smoke: FAIL could not remove $d"; return 1; }
}
cleanup() { local rc=$?; rmcg "$C" && rmcg "$P" || rc=1; exit $rc; }
trap cleanup EXIT

[ "$(stat -fc %T "$CG")" = cgroup2fs ] || { echo "smoke: $CG is not cgroup2 (run me in the VM: test/vm/run.sh)"; exit 1; }
echo "smoke: controllers at $CG: $(cat "$CG/cgroup.controllers")"
rmcg "$C"; rmcg "$P"
mkdir "$P"
echo "+memory +pids +cpu" > "$P/cgroup.subtree_control"
mkdir "$C"
echo "smoke: $C/cgroup.controllers: $(cat "$C/cgroup.controllers")"
for c in memory pids cpu; do grep -qw $c "$C/cgroup.controllers" && ok "$c delegated" || bad "$c not delegated"; done

limit=32M
[ "${BREAK:-}" = 1 ] && { limit=32Mbogus; echo "smoke: BREAK=1: writing an invalid memory.max"; }
if ! echo "$limit" > "$C/memory.max"; then echo "smoke: FAIL writing memory.max=$limit"; exit 1; fi
[ "$(cat "$C/memory.max")" = $((32 << 20)) ] && ok "memory.max=$(cat "$C/memory.max")" || bad "memory.max reads $(cat "$C/memory.max")"
echo 0 > "$C/memory.swap.max" 2>/dev/null || true
rc=0; bash -c "echo \$\$ > $C/cgroup.procs; exec dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null" || rc=$?
oom=$(awk '$1=="oom_kill"{print $2}' "$C/memory.events")
echo "smoke: dd with a 100 MiB buffer exited $rc; memory.events: $(tr '\n' ' ' < "$C/memory.events")"
[ "$rc" = 137 ] && [ "${oom:-0}" -ge 1 ] && ok "OOM kill at memory.max=32M (oom_kill $oom)" || bad "no OOM kill (exit $rc, oom_kill ${oom:-?})"

echo 4 > "$C/pids.max"
bash -c "echo \$\$ > $C/cgroup.procs; for i in 1 2 3 4 5 6; do sleep 1 & done 2>/dev/null; wait" 2>/dev/null || true
grep -q '^max [1-9]' "$C/pids.events" && ok "pids.max=4 enforced ($(tr '\n' ' ' < "$C/pids.events"))" || bad "pids.max not enforced"

echo "50000 100000" > "$C/cpu.max"
[ "$(cat "$C/cpu.max")" = "50000 100000" ] && ok "cpu.max=$(cat "$C/cpu.max")" || bad "cpu.max"

[ "$fails" = 0 ] && echo "smoke: all passed" || echo "smoke: $fails failed"
exit $((fails > 0))
