#!/usr/bin/env bash
# After site.yml with the swarm topology (inventories/local-swarm, whose one node is also labelled
# celerylab.grader=true): the grading fleet's swarm service is global on grader-labelled nodes,
# runs there, and grades: with the hub host's compose grader stopped, a sealed probe submission
# comes back executed by celery@grader-<node> (swarm_grade_probe.py).
#   deploy/tests/swarm-grader-check.sh PROJECT STACK_DIR
set -euo pipefail
PROJECT=$1
STACK_DIR=$2
TESTS=$(cd "$(dirname "$0")" && pwd)
service="$PROJECT-grader"

spec=$(docker service inspect "$service" --format '{{json .Spec.Mode}} {{json .Spec.TaskTemplate.Placement.Constraints}}')
echo "service $service: $spec"
[[ "$spec" == *'"Global"'* && "$spec" == *'node.labels.celerylab.grader == true'* ]]
node=""
for _ in $(seq 1 90); do
  node=$(docker service ps "$service" --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' |
    awk '$2 == "Running" {print $1; exit}')
  [ -n "$node" ] && break
  sleep 2
done
[ -n "$node" ] || { docker service ps --no-trunc "$service" >&2; exit 1; }
labels=$(docker node inspect "$node" --format '{{json .Spec.Labels}}')
echo "running on $node: $labels"
[[ "$labels" == *'"celerylab.grader":"true"'* ]]

cd "$STACK_DIR"
docker compose stop grader >/dev/null
trap 'docker compose start grader >/dev/null' EXIT
docker compose exec -T hub python - "$node" <"$TESTS/swarm_grade_probe.py"
