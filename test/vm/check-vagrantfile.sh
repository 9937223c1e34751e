#!/usr/bin/env bash
# Host-side check (run.sh runs it first; cheap, no Vagrant needed): the Vagrantfile provisions with
# the same scripts/install-deps.sh that the qemu harness runs, and runs the same integration tests.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
V=$REPO/Vagrantfile
fail() { echo "check-vagrantfile: $*" >&2; exit 1; }
[ -f "$V" ] || fail "no Vagrantfile at the repo root"
[ -x "$REPO/scripts/install-deps.sh" ] || [ -f "$REPO/scripts/install-deps.sh" ] || fail "scripts/install-deps.sh is missing"
grep -v '^\s*#' "$V" | grep -q 'scripts/install-deps\.sh' || fail "the Vagrantfile's provisioning does not run scripts/install-deps.sh"
grep -q 'scripts/install-deps\.sh' "$REPO/test/vm/run.sh" || fail "test/vm/run.sh does not run scripts/install-deps.sh"
grep -v '^\s*#' "$V" | grep -q 'test:integration' || fail "the Vagrantfile does not run the integration tests"
grep -q 'debian/bookworm64' "$V" || fail "the Vagrantfile is not on debian/bookworm64"
grep -q 'systemd.unified_cgroup_hierarchy=0' "$V" || fail "the Vagrantfile has no cgroup v1 machine"
if command -v ruby >/dev/null; then ruby -c "$V" >/dev/null || fail "the Vagrantfile is not valid Ruby"; fi
echo "check-vagrantfile: ok (provisions with scripts/install-deps.sh)" >&2
