#!/usr/bin/env bash
# Installs everything minipod, its examples and its tests need on a Debian 12 host, then builds.
# Shared by the README's commands, .ci/run, the Vagrantfile and the VM test harness, so that
# there is one list of dependencies. Idempotent: a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  catatonit                    # the pod's PID 1 (podman's choice): reaps orphans, ~0.7 MB
  conmon                       # holds each container so it outlives the daemon (the default monitor)
  busybox-static               # rootfs of the tests and the example's app container
  containernetworking-plugins  # bridge, host-local, portmap, loopback, firewall
  iptables iproute2 curl
  git                          # gitRepo volumes are cloned with the host's git
  tmux                         # the exec -it test drives a real terminal
  gcc libc6-dev                # static test programs (the /proc race scanner)
  crun runc podman tini        # peers, for comparison tests and benchmarks
  containerd                   # 1.6: its runc shim drives bin/minipod-oci in the OCI tests
  umoci skopeo docker-registry # image tests
  apache2-utils                # htpasswd: the image tests' registry with basic auth
  qemu-system-x86 xz-utils cpio # the cgroup v2 VM tests
  libseccomp2                  # compiles seccomp profiles (src/seccomp/compile.ts)
  gcc libc6-dev                # the seccomp test builds its static probe program
  golang-github-containers-common # /usr/share/containers/seccomp.json: the Localhost profile test
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
updated=
update_once() { [ -n "$updated" ] || { apt-get update -qq; updated=1; }; }
# rootfs-tools/ fetches packages (nginx and its libraries) with apt-get download: it needs the
# package lists even when everything above is installed already.
compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || update_once
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package enables and starts a host-wide containerd under systemd; the tests start a
  # private one of their own. One we installed just now is stopped and disabled again.
  if [[ " ${missing[*]} " == *" containerd "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now containerd.service >/dev/null 2>&1 || true
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
