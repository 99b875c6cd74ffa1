#!/usr/bin/env bash
# After site.yml with the swarm topology (inventories/local-swarm): check what the playbook made
# (a swarm manager, node labels, the attachable overlay network with the hub on it, the hub's
# swarm spawner, serving labs below its public URL); test_swarm_lab.py then spawns a real lab as
# a swarm service.
#   deploy/tests/swarm-check.sh PROJECT STACK_DIR PUBLIC_URL
set -euo pipefail
PROJECT=$1
STACK_DIR=$2
PUBLIC_URL=$3

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
spawner=$(docker inspect "$hub" --format '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^CELERYLAB_SPAWNER=//p')
echo "hub: CELERYLAB_SPAWNER=$spawner"
[ "$spawner" = swarm ]
public=$(docker inspect "$hub" --format '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^CELERYLAB_PUBLIC_URL=//p')
echo "hub: CELERYLAB_PUBLIC_URL=$public"
[ "$public" = "$PUBLIC_URL" ]
