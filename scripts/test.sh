#!/usr/bin/env bash
# Sets up and runs every test suite, as root on a Debian 12 host (the README's test command;
# .ci/run calls exactly this):
#   1. scripts/install-deps.sh     Debian packages, npm ci, build
#   2. rootfs-tools/build-all.sh   the busybox/nginx/app root filesystems the tests use
#   3. lint                        ESLint, the layer check and Prettier (npm run lint:eslint, lint:layers, lint:format)
#   4. unit tests                  no root needed (vitest project "unit")
#   5. integration tests           as root: real pods on this host (vitest project "integration")
#   6. VM tests                    the cgroup v2 path on a real pure-v2 kernel under qemu
# Ends with one line "N passed, N failed" totalling every suite; exits non-zero if any failed.
# SKIP_VM=1 skips the VM tests (they take a few minutes under TCG).
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1 FORCE_COLOR=0

if [[ $(id -u) != 0 ]]; then
  echo "test.sh: the integration and VM tests start real pods: run it as root (sudo $0)" >&2
  exit 1
fi

RESULTS=.cache/test-results
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
status=0

scripts/install-deps.sh || { echo "test.sh: install-deps failed"; echo "0 passed, 1 failed"; exit 1; }
rootfs-tools/build-all.sh || { echo "test.sh: building the root filesystems failed"; echo "0 passed, 1 failed"; exit 1; }

run_vitest() { # project
  node_modules/.bin/vitest run --project "$1" --reporter=default --reporter=json --outputFile="$RESULTS/$1.json" || status=1
}

echo "== lint (ESLint, layer check, Prettier)"
for check in eslint layers format; do # each counts as one test in the final line
  if npm run --silent "lint:$check"; then echo "PASS $check" >>"$RESULTS/lint"; else echo "FAIL $check" >>"$RESULTS/lint"; status=1; fi
done

echo "== unit tests"
run_vitest unit
echo "== integration tests (root, real pods)"
run_vitest integration

if [[ ${SKIP_VM:-} != 1 ]]; then
  echo "== VM tests (pure cgroup v2 kernel under qemu)"
  VM_SKIP_DEPS=1 VM_RESULTS_DIR="$RESULTS/vm" bash test/vm/run.sh || status=1
fi

node scripts/count-results.mjs "$RESULTS" || status=1
exit $status
