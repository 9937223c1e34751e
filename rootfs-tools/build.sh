#!/usr/bin/env bash
# Builds one root filesystem tarball from Debian packages, offline-friendly and reproducible.
#
#   rootfs-tools/build.sh NAME OUTDIR      NAME: busybox | nginx | app   ->  OUTDIR/NAME.tar
#
# - Packages are fetched with `apt-get download` (or taken from /var/cache/apt/archives) and
#   unpacked with `dpkg-deb -x` into a staging dir: nothing is installed on the host and no
#   maintainer script runs.
# - The tarball is reproducible: entries sorted by name, every mtime = SOURCE_DATE_EPOCH
#   (default 2024-01-01), numeric owners 0:0 (one documented exception: /home/user is 1000:1000),
#   GNU format without atime/ctime. Same inputs, same bytes.
# - OUTDIR/NAME.tar.inputs records a hash of the inputs (this script, the package versions);
#   a tarball whose inputs did not change is not rebuilt (FORCE=1 rebuilds).
set -euo pipefail

NAME=${1:?usage: build.sh NAME OUTDIR (NAME: busybox, nginx, app)}
OUTDIR=${2:?usage: build.sh NAME OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
ARCH=$(dpkg --print-architecture)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
DEBS="$OUTDIR/.debs"

log() { echo "rootfs-tools[$NAME]: $*" >&2; }

# --- package sets -------------------------------------------------------------------------------
# Dependencies that only matter to dpkg/maintainer scripts or optional tools, never to the
# program at run time in a container. Excluding them keeps the closure minimal; the nginx
# image is verified below with `nginx -t` in a chroot, so a wrong exclusion fails the build.
DENY=(debconf cdebconf debconf-2.0 dpkg install-info tar perl-base iproute2 lsb-base
      sensible-utils init-system-helpers adduser passwd)

denied() { local d; for d in "${DENY[@]}"; do [[ $1 == "$d" ]] && return 0; done; return 1; }

# Prints the Depends/PreDepends of one package as alternative groups, one `a|b|c` per line.
dep_groups() {
  apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances "$1" 2>/dev/null | awk '
      /^ *\|?(Pre)?Depends: / {
        alt = ($0 ~ /^ *\|/); sub(/^ *\|?(Pre)?Depends: /, ""); group = group (group == "" ? "" : "|") $0
        if (!alt) { print group; group = "" }
      }'
}

# The run-time dependency closure of the given packages (first usable alternative of each group).
closure() {
  local -A seen=()
  local queue=("$@") p group alt
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    [[ -n ${seen[$p]:-} ]] && continue
    denied "$p" && continue
    seen[$p]=1
    while IFS= read -r group; do
      IFS='|' read -ra alts <<<"$group"
      for alt in "${alts[@]}"; do
        [[ $alt == \<* ]] && continue            # virtual package: a real alternative follows
        denied "$alt" && break                   # the group is not needed at run time
        queue+=("$alt"); break
      done
    done < <(dep_groups "$p")
  done
  printf '%s\n' "${!seen[@]}" | sort
}

# PICK: packages from which only some files are taken (Debian's busybox lacks ipcs/ipcmk/ipcrm,
# which the tests use for the pod's shared SysV IPC; util-linux's need only libc.so.6 and the
# dynamic loader, copied from libc6 rather than the whole package).
PICK=()
PICK_FILES=()
case "$NAME" in
  busybox|app)
    ROOTS=(busybox-static)
    PICK=(util-linux libc6)
    PICK_FILES=(usr/bin/ipcmk usr/bin/ipcs usr/bin/ipcrm) ;;
  nginx) ROOTS=(nginx busybox-static) ;;
  *) echo "build.sh: unknown rootfs $NAME (busybox, nginx, app)" >&2; exit 2 ;;
esac
mapfile -t PKGS < <(closure "${ROOTS[@]}")
declare -A VER=()
for p in "${PKGS[@]}" "${PICK[@]}"; do
  VER[$p]=$(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')
  [[ -n ${VER[$p]} && ${VER[$p]} != "(none)" ]] || { echo "build.sh: no candidate for $p (apt-get update?)" >&2; exit 1; }
done

# --- skip when the inputs did not change ----------------------------------------------------------
INPUTS=$( { sha256sum "$HERE/build.sh"; echo "epoch=$EPOCH arch=$ARCH"; for p in "${PKGS[@]}" "${PICK[@]}"; do echo "$p=${VER[$p]}"; done; } | sha256sum | cut -d' ' -f1)
OUT="$OUTDIR/$NAME.tar"
if [[ -z ${FORCE:-} && -f $OUT && -f $OUT.inputs && $(cat "$OUT.inputs") == "$INPUTS" ]]; then
  log "up to date: $OUT"
  exit 0
fi
log "packages: ${PKGS[*]}"

# --- fetch and unpack -------------------------------------------------------------------------------
mkdir -p "$DEBS"
fetch() { # pkg version -> path of the .deb
  local p=$1 v=$2 f
  f="${p}_${v//:/%3a}_"
  for cand in "$DEBS/$f$ARCH.deb" "$DEBS/${f}all.deb" "/var/cache/apt/archives/$f$ARCH.deb" "/var/cache/apt/archives/${f}all.deb"; do
    [[ -f $cand ]] && { echo "$cand"; return; }
  done
  (cd "$DEBS" && apt-get download -qq "$p=$v" >/dev/null 2>&1) || { echo "build.sh: apt-get download $p=$v failed" >&2; exit 1; }
  ls "$DEBS/$f"*.deb
}

STAGE=$(mktemp -d "$OUTDIR/.stage-$NAME.XXXXXX")
trap 'rm -rf "$STAGE" "$OUT.tmp"' EXIT
R="$STAGE/rootfs"
mkdir -p "$R"
for p in "${PKGS[@]}"; do
  dpkg-deb -x "$(fetch "$p" "${VER[$p]}")" "$R"
done
if ((${#PICK[@]})); then
  P="$STAGE/pick"
  mkdir -p "$P"
  for p in "${PICK[@]}"; do
    [[ -n ${VER[$p]:-} && " ${PKGS[*]} " != *" $p "* ]] || continue
    dpkg-deb -x "$(fetch "$p" "${VER[$p]}")" "$P"
  done
  # Each picked binary plus the shared libraries it needs (as the host's ldd names them; the
  # host has the same Debian release), taken from the picked packages, never from the host.
  for f in "${PICK_FILES[@]}"; do
    (cd "$P" && cp -a --parents "$f" "$R/")
    for lib in $(ldd "$P/$f" | grep -o '/[^ ]*'); do
      for src in "$lib" "$(readlink "$P$lib" || true)"; do
        [[ -n $src && ( -e "$P$src" || -L "$P$src" ) ]] || continue
        [[ -e "$R$src" || -L "$R$src" ]] || (cd "$P" && cp -a --parents ".$src" "$R/")
      done
      [[ -e "$R$lib" ]] || { echo "build.sh: $f needs $lib, not found in ${PICK[*]}" >&2; exit 1; }
    done
  done
fi
# Documentation, man pages, editor/initramfs hooks and iconv modules (8 MB, nginx and busybox
# never load them) are not needed in a container.
rm -rf "$R"/usr/share/{doc,man,info,lintian,locale,bug,vim,apport,initramfs-tools} "$R"/usr/lib/*/gconv "$R"/etc/init.d "$R"/etc/logrotate.d "$R"/etc/ufw "$R"/lib/systemd "$R"/usr/lib/systemd

# --- common layout: busybox applets, users, empty dirs ----------------------------------------------------
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,var/www,var/tmp,home/user}
chmod 1777 "$R/tmp" "$R/var/tmp"
chmod 0700 "$R/root"
# Applet links where the packages did not install a real program (busybox-static ships /bin/busybox).
"$R/bin/busybox" --list-full | sort | while read -r applet; do
  case "$applet" in bin/*|sbin/*|usr/bin/*|usr/sbin/*) ;; *) continue ;; esac
  [[ -e "$R/$applet" || -L "$R/$applet" ]] || ln -s /bin/busybox "$R/$applet"
done

cat >"$R/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
www-data:x:33:33:www-data:/var/www:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$R/etc/group" <<'GROUP'
root:x:0:
adm:x:4:
www-data:x:33:
user:x:1000:
nogroup:x:65534:
GROUP
# A default hosts/resolv/hostname are written by minipod at run time; these are placeholders.
: >"$R/etc/hostname"
: >"$R/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$R/etc/nsswitch.conf"

# --- per-image parts -------------------------------------------------------------------------------
case "$NAME" in
  app)
    # The example's app container: busybox httpd serving this page, e.g.
    #   command: [httpd, -f, -v, -p, "127.0.0.1:2368", -h, /var/www]
    cat >"$R/var/www/index.html" <<'HTML'
<!doctype html>
<html><head><title>minipod app</title></head>
<body><h1>Hello from the app container</h1><p>Served by busybox httpd on 127.0.0.1:2368.</p></body></html>
HTML
    ;;
  nginx)
    mkdir -p "$R"/var/log/nginx "$R"/var/lib/nginx "$R"/etc/nginx/{modules-enabled,sites-enabled,conf.d}
    # What nginx-common's postinst would do: enable the default site.
    ln -sfn /etc/nginx/sites-available/default "$R/etc/nginx/sites-enabled/default"
    # Logs go to the container's stdout/stderr, which minipod collects (as Docker's nginx image does).
    ln -sfn /dev/stdout "$R/var/log/nginx/access.log"
    ln -sfn /dev/stderr "$R/var/log/nginx/error.log"
    ;;
esac

# --- verify (needs root for chroot) -----------------------------------------------------------------
if [[ $(id -u) == 0 ]]; then
  chroot "$R" /bin/sh -c 'echo ok' >/dev/null || { echo "build.sh: /bin/sh does not run in the rootfs" >&2; exit 1; }
  for f in "${PICK_FILES[@]}"; do
    chroot "$R" "/$f" --version >/dev/null || { echo "build.sh: /$f does not run in the rootfs" >&2; exit 1; }
  done
  if [[ $NAME == nginx ]]; then
    chroot "$R" /usr/sbin/nginx -v 2>&1 | sed "s/^/rootfs-tools[$NAME]: /" >&2
    cat >"$R/tmp/minipod-test.conf" <<'CONF'
user www-data;
error_log stderr;
pid /tmp/nginx.pid;
events {}
http {
  access_log off;
  server { listen 127.0.0.1:8080; location / { proxy_pass http://127.0.0.1:2368; } }
}
CONF
    chroot "$R" /usr/sbin/nginx -t -q -c /tmp/minipod-test.conf || { echo "build.sh: nginx -t failed in the rootfs" >&2; exit 1; }
    chroot "$R" /usr/sbin/nginx -t -q || { echo "build.sh: nginx -t (Debian default config) failed in the rootfs" >&2; exit 1; }
    rm -rf "$R"/tmp/* "$R"/var/lib/nginx/*
  fi
else
  log "not root: skipping the chroot checks"
fi

# --- pack, reproducibly ---------------------------------------------------------------------------------
TAROPTS=(--format=gnu --sort=name --mtime="@$EPOCH" --numeric-owner --no-acls --no-xattrs --no-selinux)
tar -C "$R" "${TAROPTS[@]}" --owner=0 --group=0 --exclude=./home -cf "$OUT.tmp" .
# /home/user is the one path not owned by root: /home and it are appended after the sorted main
# part, contiguous so that extractors setting directory times on leaving a directory get them right.
tar -C "$R" "${TAROPTS[@]}" --owner=0 --group=0 --no-recursion -rf "$OUT.tmp" ./home
tar -C "$R" "${TAROPTS[@]}" --owner=1000 --group=1000 -rf "$OUT.tmp" ./home/user
mv -f "$OUT.tmp" "$OUT"
echo "$INPUTS" >"$OUT.inputs"
log "built $OUT ($(du -h "$OUT" | cut -f1), sha256 $(sha256sum "$OUT" | cut -c1-12)...)"
