#!/usr/bin/env bash
# After site.yml with the swarm topology (inventories/local-swarm): check what the playbook made
# and that a lab runs as a swarm service the hub reaches by name on the overlay network:
#   deploy/tests/swarm-check.sh PROJECT STACK_DIR
set -euo pipefail
PROJECT=$1
STACK_DIR=$2
SERVICE="${PROJECT}-probe"
cleanup() { docker service rm "$SERVICE" >/dev/null 2>&1 || true; }
trap cleanup EXIT

state=$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')
[ "$state" = "active true" ] || { echo "not a swarm manager: $state" >&2; exit 1; }
labels=$(docker node inspect self --format '{{json .Spec.Labels}}')
echo "node labels: $labels"
[[ "$labels" == *'"celerylab.role":"hub"'* && "$labels" == *'"celerylab.lab":"true"'* ]]
network=$(docker network inspect "$PROJECT" --format '{{.Driver}} {{.Scope}} {{.Attachable}}')
echo "network $PROJECT: $network"
[ "$network" = "overlay swarm true" ]
hub=$(cd "$STACK_DIR" && docker compose ps -q hub)
docker inspect "$hub" --format '{{json .NetworkSettings.Networks}}' | grep -q "\"$PROJECT\""

# A lab as a swarm service, placed by the node label, on the overlay network (what a
# SwarmSpawner makes), answering the hub by its service name. Endpoint mode dnsrr: the name
# resolves to the lab's own address (no IPVS virtual IP, which this machine's kernel lacks and
# which drops websockets idle for 15 minutes): the spawner needs extra_endpoint_spec mode dnsrr.
lab_image=$(grep '^CELERYLAB_LAB_IMAGE=' "$STACK_DIR/.env" | cut -d= -f2)
docker service create --quiet --detach --name "$SERVICE" --network "$PROJECT" \
  --constraint 'node.labels.celerylab.lab==true' --restart-condition none --endpoint-mode dnsrr \
  --entrypoint python3 "$lab_image" -m http.server 8888 >/dev/null 2>&1
if (cd "$STACK_DIR" && docker compose exec -T hub sh -c \
  "for i in \$(seq 1 60); do curl -sf -o /dev/null http://$SERVICE:8888/ && exit 0; sleep 1; done; exit 1"); then
  echo "the hub reached the lab service $SERVICE by name on the overlay network"
  exit 0
fi
docker service ps --no-trunc "$SERVICE" >&2
exit 1
