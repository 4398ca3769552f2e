#!/usr/bin/env bash
# Builds deploy/Dockerfile (unchanged, classic builder) and runs the image the way deploy/manifests/deployment.yaml
# does, against a real Prometheus and the kube-apiserver stand-in (test/image/container.image-test.ts). CI runs it
# last (.ci/run), as root.
#
# - installs docker.io and debootstrap from Debian when missing;
# - starts dockerd when it is not running, and stops it at the end if it started it;
# - builds LOCAL STAND-INS of the two base images only when they are absent (deploy/image-test/stand-in-bases.sh;
#   a machine with registry access pulls the real ones instead);
# - passes the host's extra CA certificates to the build (EXTRA_CA_CERTS) for builds behind a TLS-intercepting proxy;
# - prints the build time, the image size and the binary size.
#
# Exit status: 0 passed, 1 failed, 77 skipped (after printing "SKIPPED image test: <reason>", e.g. dockerd cannot
# start on this machine).
set -uo pipefail
cd "$(dirname "$0")/.."

SKIPPED=77
skip() { echo "SKIPPED image test: $*"; exit "$SKIPPED"; }
fail() { echo "image test: FAILED: $*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
  skip "needs root (to install packages, start dockerd and debootstrap the stand-in bases); CI runs as root"
fi

packages=()
command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 || packages+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || packages+=(debootstrap)
if [ "${#packages[@]}" -gt 0 ]; then
  echo "--- image test: installing ${packages[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; } ||
    skip "cannot install ${packages[*]}"
fi

started_dockerd=""
dockerd_log=$(mktemp /tmp/prom-adapter-dockerd.XXXXXX.log)
stop_dockerd() {
  if [ -n "$started_dockerd" ]; then
    kill -TERM "$started_dockerd" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 1; done
    kill -0 "$started_dockerd" 2>/dev/null && kill -KILL "$started_dockerd"
    echo "--- image test: stopped the dockerd it started"
  fi
  rm -f "$dockerd_log"
}
trap stop_dockerd EXIT
if ! docker info >/dev/null 2>&1; then
  echo "--- image test: starting dockerd"
  dockerd >"$dockerd_log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$started_dockerd" 2>/dev/null || break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    last_error=$(grep -E 'level=(fatal|error)' "$dockerd_log" | tail -n 1 | sed 's/^time="[^"]*" //' | cut -c 1-300)
    if kill -0 "$started_dockerd" 2>/dev/null; then
      skip "dockerd did not answer within 30 s${last_error:+ (last error: $last_error)}"
    fi
    wait "$started_dockerd"
    code=$?
    started_dockerd=""
    skip "dockerd cannot start (exit $code)${last_error:+: $last_error}"
  fi
fi

echo "--- image test: base images"
started=$SECONDS
deploy/image-test/stand-in-bases.sh || fail "could not build the stand-in base images"
echo "image test: base images ready in $((SECONDS - started)) s"

version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
image="ghcr.io/prom-adapter/prom-adapter:${version}"
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# Bun trusts only its bundled roots. The host's extra CAs: NODE_EXTRA_CA_CERTS when it is a small file, else the
# local additions to Debian's store (a whole system bundle is too long for one command-line argument).
extra_ca=""
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ] &&
  [ "$(wc -c <"$NODE_EXTRA_CA_CERTS")" -lt 100000 ]; then
  extra_ca=$(cat "$NODE_EXTRA_CA_CERTS")
elif compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  extra_ca=$(cat /usr/local/share/ca-certificates/*.crt)
fi

echo "--- image test: docker build -f deploy/Dockerfile -t $image (classic builder)"
started=$SECONDS
build_epoch=$(date +%s)
build_log=$(mktemp /tmp/prom-adapter-build.XXXXXX.log)
if ! DOCKER_BUILDKIT=0 docker build -f deploy/Dockerfile -t "$image" \
  --build-arg "PROM_ADAPTER_GIT_COMMIT=$commit" --build-arg "EXTRA_CA_CERTS=$extra_ca" . >"$build_log" 2>&1; then
  tail -n 40 "$build_log"
  rm -f "$build_log"
  fail "docker build failed"
fi
grep -E '^Sending build context' "$build_log" | tail -n 1
rm -f "$build_log"
echo "image test: build took $((SECONDS - started)) s"
# Earlier runs' untagged images (replaced images and build stages; ~0.3 GB per commit) go; this build's stay, as the
# cache of the next one.
docker image prune --force --filter "until=$build_epoch" >/dev/null || true

image_bytes=$(docker image inspect --format '{{.Size}}' "$image")
binary_dir=$(mktemp -d /tmp/prom-adapter-binary.XXXXXX)
holder=$(docker create "$image")
docker cp "$holder:/usr/local/bin/prom-adapter" "$binary_dir/prom-adapter" >/dev/null
docker rm "$holder" >/dev/null
binary_bytes=$(stat -c %s "$binary_dir/prom-adapter")
rm -rf "$binary_dir"
echo "image test: image $image: $((image_bytes / 1048576)) MiB ($image_bytes bytes)"
echo "image test: binary /usr/local/bin/prom-adapter: $((binary_bytes / 1048576)) MiB ($binary_bytes bytes)"

echo "--- image test: run as deploy/manifests/deployment.yaml does"
PROM_ADAPTER_IMAGE="$image" PROM_ADAPTER_IMAGE_COMMIT="$commit" \
  npx bun test --timeout 120000 ./test/image/container.image-test.ts
