#!/usr/bin/env bash
# Builds LOCAL STAND-INS for the two base images of deploy/Dockerfile, for machines that cannot reach an image
# registry. They are NOT the real images: a real build (any machine with registry access) pulls the real
# oven/bun and gcr.io/distroless/base-debian12 images, and this script never runs there because the real images are
# then present or pullable. The classic builder (DOCKER_BUILDKIT=0) uses a local image with the exact name and tag
# without pulling, so the Dockerfile builds unchanged on top of these.
#
#   oven/bun:<tag>                          Debian bookworm `debootstrap --variant=minbase` + the Bun executable of the
#                                           same version from node_modules at /usr/local/bin/bun (as the real image).
#   gcr.io/distroless/base-debian12:nonroot glibc, the CA bundle, tzdata, /etc/passwd and /etc/group with uid/gid
#                                           65532 `nonroot`, /tmp (1777) and /home/nonroot, user 65532, as the real one.
#
# Each is built only when no image of that name exists and none can be pulled (so real images and earlier stand-ins
# are reused). The stand-ins carry the commit message "LOCAL STAND-IN ..." (see `docker history`).
#
# Usage: deploy/image-test/stand-in-bases.sh   (as root, dockerd running; reads the tags from deploy/Dockerfile)
set -euo pipefail
cd "$(dirname "$0")/../.."

bun_image=$(sed -n 's/^FROM \(oven\/bun:[^ ]*\).*/\1/p' deploy/Dockerfile | head -n 1)
runtime_image=$(sed -n 's/^FROM \(gcr\.io\/distroless\/[^ ]*\).*/\1/p' deploy/Dockerfile | head -n 1)
die() { echo "stand-ins: $*" >&2; exit 1; }
[ -n "$bun_image" ] && [ -n "$runtime_image" ] || die "cannot read the base images from deploy/Dockerfile"
[ "$runtime_image" = "gcr.io/distroless/base-debian12:nonroot" ] || die "no stand-in recipe for $runtime_image"

# Present already (the real image or an earlier stand-in), or pulled now when a registry answers.
available() {
  if docker image inspect "$1" >/dev/null 2>&1; then echo "stand-ins: $1 present, kept"; return 0; fi
  if timeout 300 docker pull --quiet "$1" >/dev/null 2>&1; then echo "stand-ins: pulled the real $1"; return 0; fi
  return 1
}
need_bun=1; need_runtime=1
if available "$bun_image"; then need_bun=0; fi
if available "$runtime_image"; then need_runtime=0; fi
[ "$need_bun" = 1 ] || [ "$need_runtime" = 1 ] || exit 0

# The Debian mirror apt already uses (deb822 `URIs:` or one-line `deb` sources), else deb.debian.org.
debian_mirror() { awk '{print $2}' | grep -E '/debian/?$' | head -n 1 || true; }
mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | debian_mirror || true)
if [ -z "$mirror" ]; then
  mirror=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | debian_mirror || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d /tmp/prom-adapter-stand-ins.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
echo "stand-ins: debootstrap --variant=minbase bookworm from $mirror"
started=$SECONDS
debootstrap --variant=minbase --include=ca-certificates,tzdata,netbase bookworm "$rootfs" "$mirror" \
  >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
echo "stand-ins: debootstrap took $((SECONDS - started)) s"

if [ "$need_bun" = 1 ]; then
  tag=${bun_image#oven/bun:}
  bun=""
  for candidate in node_modules/bun/bin/bun.exe node_modules/@oven/bun-linux-x64*/bin/bun; do
    if [ -x "$candidate" ]; then bun=$candidate; break; fi
  done
  [ -n "$bun" ] || die "no Bun executable in node_modules (run npm ci first)"
  version=$("$bun" --version)
  [ "$version" = "$tag" ] || die "node_modules has Bun $version, deploy/Dockerfile wants $tag"
  install -m 0755 "$bun" "$rootfs/usr/local/bin/bun"
  ln -sf bun "$rootfs/usr/local/bin/bunx"
  mkdir -p "$rootfs/home/bun/app"
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --message "LOCAL STAND-IN for $bun_image (debootstrap minbase, Bun $version from node_modules); not the real one" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV BUN_RUNTIME_TRANSPILER_CACHE_PATH=0' \
    --change 'WORKDIR /home/bun/app' \
    --change 'CMD ["/usr/local/bin/bun"]' \
    - "$bun_image" >/dev/null
  echo "stand-ins: built $bun_image (LOCAL STAND-IN)"
fi

if [ "$need_runtime" = 1 ]; then
  base="$work/distroless"
  mkdir -p "$base"
  # glibc exactly as the libc6 package installs it, plus the CA bundle, the zone database and netbase's tables.
  # Paths are listed with their directories resolved (bookworm's /lib is a symlink to usr/lib); the top-level
  # symlinks are kept as symlinks.
  chroot "$rootfs" sh -c 'for link in /lib /lib64 /bin /sbin; do [ -L "$link" ] && echo ".$link"; done
    dpkg -L libc6 tzdata netbase | while read -r path; do
      if [ -f "$path" ] || [ -L "$path" ]; then echo ".$(readlink -f "$(dirname "$path")")/$(basename "$path")"; fi
    done' | sort -u >"$work/files"
  printf '%s\n' ./etc/ssl/certs/ca-certificates.crt ./etc/os-release ./usr/lib/os-release >>"$work/files"
  tar -C "$rootfs" --numeric-owner --no-recursion -c -T "$work/files" | tar -C "$base" -x
  mkdir -p "$base/tmp" "$base/home/nonroot" "$base/root" "$base/etc/ssl/certs"
  chmod 1777 "$base/tmp"
  chown 65532:65532 "$base/home/nonroot"
  chmod 0700 "$base/root"
  # The same users and groups as distroless' base image.
  cat >"$base/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$base/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  printf 'hosts: files dns\n' >"$base/etc/nsswitch.conf"
  tar -C "$base" --numeric-owner -c . | docker import \
    --message "LOCAL STAND-IN for $runtime_image (glibc, CA bundle, tzdata from Debian bookworm); not the real one" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'USER 65532' \
    --change 'WORKDIR /home/nonroot' \
    - "$runtime_image" >/dev/null
  echo "stand-ins: built $runtime_image (LOCAL STAND-IN)"
fi
