#!/usr/bin/env bash
# Build debian:bookworm-slim from Debian's packages when no registry can provide it (CI here),
# so `FROM debian:bookworm-slim` builds unchanged. Idempotent.
set -euo pipefail
tag="${1:-debian:bookworm-slim}"
docker image inspect "$tag" >/dev/null 2>&1 && exit 0
timeout 60 docker pull -q "$tag" >/dev/null 2>&1 && exit 0
command -v debootstrap >/dev/null || {
  apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
root=$(mktemp -d)
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$tag" >/dev/null
rm -rf "$root"
echo "built $tag locally"
