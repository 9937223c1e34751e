#!/usr/bin/env bash
# Sets up and runs the blog example on a Debian 12 host, as root, in one command:
#
#   sudo examples/blog/run.sh
#
# 1. scripts/install-deps.sh   Debian packages (catatonit, CNI plugins, iptables, ...), npm ci, build
# 2. rootfs-tools/build-all.sh build/rootfs/{busybox,nginx,app}.tar from Debian packages (skipped
#                              when up to date)
# 3. minipod run               attached: every container's output, prefixed with its name.
#                              Ctrl-C stops the pod and cleans up.
#
# Extra arguments are passed to `minipod run` (none are needed).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $(id -u) != 0 ]]; then
  echo "run.sh: minipod creates namespaces, mounts, cgroups and a bridge: run it as root (sudo $0)" >&2
  exit 1
fi
if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null; then
  echo "run.sh: minipod needs Node.js >= 20 (Debian 12 ships 18): see the Vagrantfile's INSTALL_NODE for one way to get it" >&2
  exit 1
fi

scripts/install-deps.sh
rootfs-tools/build-all.sh

echo "run.sh: starting pod blog: try 'curl http://127.0.0.1:8080/' from another shell; Ctrl-C stops it" >&2
exec ./bin/minipod run examples/blog/pod.yaml "$@"
