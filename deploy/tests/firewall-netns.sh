#!/usr/bin/env bash
# Load the firewall rules the playbook wrote into a network namespace standing in for a
# celerylab host, and probe it from another namespace standing in for the internet:
#   deploy/tests/firewall-netns.sh RULES_FILE
#
#   clabfw-net (10.231.0.1) --eth-pub-- clabfw-host (10.231.0.2) --br-clabfw-- clabfw-ctr (10.232.0.2)
#
# clabfw-host loads RULES_FILE, and publishes two "container" ports the way Docker does (DNAT
# to clabfw-ctr behind an interface named like a Docker bridge): 80 -> ctr:80 and
# 9090 -> ctr:9090 (a Prometheus published by mistake). From the outside only 22, 80 and 443 may
# answer; the host's own 8000 and 9090 and the published 9090 must not. Containers still reach
# the host. The machine's own network is never touched: everything lives in the namespaces.
set -euo pipefail
RULES=$(realpath "$1")
NS=(clabfw-net clabfw-host clabfw-ctr)
pids=()

cleanup() {
  local pid ns
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup

for ns in "${NS[@]}"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
ip link add fw-a netns clabfw-net type veth peer name eth-pub netns clabfw-host
ip link add fw-b netns clabfw-ctr type veth peer name br-clabfw netns clabfw-host
ip -n clabfw-net addr add 10.231.0.1/24 dev fw-a
ip -n clabfw-host addr add 10.231.0.2/24 dev eth-pub
ip -n clabfw-host addr add 10.232.0.1/24 dev br-clabfw
ip -n clabfw-ctr addr add 10.232.0.2/24 dev fw-b
ip -n clabfw-net link set fw-a up
ip -n clabfw-host link set eth-pub up
ip -n clabfw-host link set br-clabfw up
ip -n clabfw-ctr link set fw-b up
ip -n clabfw-ctr route add default via 10.232.0.1
ip netns exec clabfw-host sysctl -qw net.ipv4.ip_forward=1

# Docker's part: published ports are DNAT rules in a table of their own.
ip netns exec clabfw-host nft -f - <<'EOF'
table ip fakedocker {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth-pub" tcp dport 80 dnat to 10.232.0.2:80
		iifname "eth-pub" tcp dport 9090 dnat to 10.232.0.2:9090
	}
}
EOF
# Listeners that stop by themselves within a minute.
listen() { # listen NS PORT...
  local ns=$1
  shift
  ip netns exec "$ns" timeout 60 python3 -c '
import socket, sys, threading
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen()
    while True:
        c, _ = s.accept(); c.sendall(b"hi"); c.close()
for p in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(p),), daemon=True).start()
threading.Event().wait()
' "$@" &
  pids+=($!)
}
listen clabfw-host 22 443 8000 9090
listen clabfw-ctr 80 9090
sleep 1

probe() { # probe NS ADDR PORT -> open|closed
  ip netns exec "$1" python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5).recv(2)
    print("open")
except OSError:
    print("closed")
' "$2" "$3"
}

fail=0
expect() { # expect NS ADDR PORT open|closed WHY
  local got
  got=$(probe "$1" "$2" "$3")
  if [ "$got" = "$4" ]; then
    echo "ok      $2:$3 from $1 is $got ($5)"
  else
    echo "FAILED  $2:$3 from $1 is $got, expected $4 ($5)"
    fail=1
  fi
}
# Without the rules everything answers (so the probes below can tell).
expect clabfw-net 10.231.0.2 8000 open "no firewall yet: the hub's own port"
expect clabfw-net 10.231.0.2 9090 open "no firewall yet: a published port"
ip netns exec clabfw-host nft -f "$RULES"
expect clabfw-net 10.231.0.2 22 open "SSH"
expect clabfw-net 10.231.0.2 443 open "HTTPS"
expect clabfw-net 10.231.0.2 80 open "HTTP, a published container port"
expect clabfw-net 10.231.0.2 8000 closed "the hub's own port"
expect clabfw-net 10.231.0.2 9090 closed "a published Prometheus port"
expect clabfw-ctr 10.232.0.1 9090 open "containers reach the host"
ip netns exec clabfw-host nft list table inet celerylab >/dev/null
exit "$fail"
