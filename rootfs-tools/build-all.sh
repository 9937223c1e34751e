#!/usr/bin/env bash
# Builds every root filesystem the example and the tests use into build/rootfs/ (or $1):
#   build/rootfs/busybox.tar   the tests' image: busybox + ipcs/ipcmk/ipcrm, users root/user(1000)/nobody
#   build/rootfs/nginx.tar     Debian's nginx with its run-time libraries, plus busybox
#   build/rootfs/app.tar       busybox with /var/www/index.html: the example's app (httpd on 127.0.0.1:2368)
# A tarball whose inputs (build.sh, package versions) did not change is skipped; FORCE=1 rebuilds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-"$HERE/../build/rootfs"}
mkdir -p "$OUT"
# build/ holds only generated files: keep it out of git even without a top-level .gitignore entry.
[[ -f "$OUT/../.gitignore" ]] || echo '*' >"$OUT/../.gitignore"
for name in busybox nginx app; do
  "$HERE/build.sh" "$name" "$OUT"
done
