#!/usr/bin/env bash
# acme mode without a DNS provider: labs' names get certificates on demand, and Caddy asks its
# own endpoint first. Renders the role's Caddyfile for acme mode, runs it in the TLS proxy image
# with no network (no CA is reached), and checks that the endpoint agrees to one label below the
# domain (a user's or a service's name) and to nothing else; the DNS-provider variant must ask
# for a Caddy with that provider's module.
#   deploy/tests/acme-ask-check.sh IMAGE        (from deploy/, with ansible on PATH)
set -euo pipefail
IMAGE=$1
DOMAIN=hub.celerylab.example.org
tmp=$(mktemp -d)
name=clab-deploy-acme-ask-$$
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

render() { # render DEST EXTRA-VARS...
  local dest=$1
  shift
  ansible localhost -c local -m ansible.builtin.template \
    -a "src=roles/celerylab_tls/templates/Caddyfile.j2 dest=$dest mode=0644" \
    -e @roles/celerylab_tls/defaults/main.yml \
    -e "celerylab_tls_mode=acme celerylab_tls_domain=$DOMAIN celerylab_tls_acme_email=ops@example.org" \
    "$@" >"$tmp/ansible.log" || { cat "$tmp/ansible.log" >&2; return 1; }
}

render "$tmp/on-demand.Caddyfile"
render "$tmp/dns.Caddyfile" -e '{"celerylab_tls_acme_dns": "cloudflare {env.CLOUDFLARE_API_TOKEN}"}'

# The DNS-01 variant names the provider's module: Debian's Caddy has none, so it says so.
out=$(docker run --rm --network none -v "$tmp/dns.Caddyfile:/etc/caddy/Caddyfile:ro" "$IMAGE" \
  caddy validate --config /etc/caddy/Caddyfile --adapter caddyfile 2>&1 || true)
grep -q "dns.providers.cloudflare" <<<"$out" || { echo "dns variant: $out" >&2; exit 1; }

docker run -d --name "$name" --network none -v "$tmp/on-demand.Caddyfile:/etc/caddy/Caddyfile:ro" \
  "$IMAGE" >/dev/null
ask() { docker exec "$name" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:5555/ask?domain=$1"; }
for _ in $(seq 1 30); do
  [ "$(ask "student1.$DOMAIN" || true)" = 200 ] && break
  sleep 1
done
failed=0
expect() { # expect CODE NAME
  local got
  got=$(ask "$2")
  printf '  %-45s %s\n' "$2" "$got"
  [ "$got" = "$1" ] || { echo "    expected $1" >&2; failed=1; }
}
echo "on-demand TLS ask endpoint:"
expect 200 "student1.$DOMAIN"
expect 200 "formgrader-course1--service.$DOMAIN"
expect 403 "$DOMAIN"               # the hub's own name has its certificate already
expect 403 "a.b.$DOMAIN"           # two labels below: no lab's name
expect 403 "student1.$DOMAIN.evil.org"
expect 403 "evil.example.org"
exit "$failed"
