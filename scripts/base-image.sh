#!/usr/bin/env bash
# Make sure the Debian base image the Dockerfiles start FROM exists. Pulled where a registry
# answers; where none does (air-gapped hosts, CI here), built locally from Debian's packages with
# debootstrap, from the Debian mirror the host's own apt uses (a campus mirror or an apt proxy
# works as it does for apt). Idempotent: an image that is present is left alone.
#
# Usage: scripts/base-image.sh [TAG]   (default: $CELERYLAB_BASE_IMAGE or debian:bookworm-slim)
#        scripts/base-image.sh --mirror   (print the mirror a local build would use)
# Settings: CELERYLAB_DEBIAN_MIRROR (overrides the mirror read from apt's sources),
#           CELERYLAB_PULL_TIMEOUT (seconds to wait for a registry; default 60).
set -euo pipefail
suite=bookworm  # the release every Dockerfile here is written for
apt_etc="${CELERYLAB_APT_ETC:-/etc/apt}"  # another folder only for the tests

# The URI of the host's Debian archive for $suite: one-line (.list) and deb822 (.sources) files.
apt_mirror() {
  local files=() f
  for f in "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list "$apt_etc"/sources.list.d/*.sources; do
    [ -r "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk -v suite="$suite" '
    # one-line format: deb [options] URI suite components
    /^[[:space:]]*deb[[:space:]]/ {
      i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) { print $i; exit }
      next
    }
    # deb822 format: stanzas of Types/URIs/Suites, separated by blank lines
    /^[[:space:]]*$/ { types = uris = suites = ""; next }
    tolower($1) == "types:"  { types = $0 }
    tolower($1) == "uris:"   { uris = $2 }
    tolower($1) == "suites:" { suites = " " $0 " " }
    types ~ /[[:space:]]deb([[:space:]]|$)/ && uris != "" && index(suites, " " suite " ") {
      print uris; exit
    }
  ' "${files[@]}"
}

mirror="${CELERYLAB_DEBIAN_MIRROR:-$(apt_mirror)}"
if [ "${1:-}" = --mirror ]; then
  echo "$mirror"
  exit 0
fi

tag="${1:-${CELERYLAB_BASE_IMAGE:-debian:bookworm-slim}}"
docker image inspect "$tag" >/dev/null 2>&1 && exit 0
if timeout "${CELERYLAB_PULL_TIMEOUT:-60}" docker pull -q "$tag" >/dev/null 2>&1; then
  exit 0
fi
if [ -z "$mirror" ]; then
  echo "celerylab: $tag cannot be pulled, and no Debian $suite archive is in this host's apt" \
    "sources to build it from; set CELERYLAB_DEBIAN_MIRROR=<Debian mirror URL>" \
    "or CELERYLAB_BASE_IMAGE=<a registry mirror's debian:$suite-slim>" >&2
  exit 1
fi
# debootstrap fetches with wget, which reads http_proxy: take apt's proxy when one is set.
if [ -z "${http_proxy:-}" ] && command -v apt-config >/dev/null 2>&1; then
  proxy=$(apt-config shell p Acquire::http::Proxy | sed -n "s/^p='\(.*\)'$/\1/p")
  [ -z "$proxy" ] || export http_proxy="$proxy"
fi

echo "celerylab: $tag cannot be pulled; building it locally from $mirror (debootstrap, ~1 min)"
if ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    if ! out=$( (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) 2>&1); then
      echo "$out" >&2
      exit 1
    fi
  else
    echo "celerylab: building $tag needs debootstrap (install it, or make $tag available)" >&2
    exit 1
  fi
fi
root=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$root" "$log"' EXIT
if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "celerylab: debootstrap from $mirror failed (log above)" >&2
  exit 1
fi
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$tag" >/dev/null
