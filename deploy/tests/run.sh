#!/usr/bin/env bash
# CI for deploy/ (the Ansible deployment). Usage: deploy/tests/run.sh   (as root, from anywhere)
#
#  1. yamllint and ansible-lint (production profile); --syntax-check of every playbook against
#     every inventory;
#  2. site.yml against this machine (inventories/local: project clab-deploy, HTTPS on
#     127.0.0.1:18443 as celerylab.localhost), then again: the second run must report changed=0;
#     then the acme Caddyfile's on-demand TLS "ask" endpoint, in the proxy image with no network;
#  3. test_https.py: HTTP redirects to HTTPS, security headers, the certificate verified against
#     the CA the playbook made, for the hub's name and a lab's own (<user>.celerylab.localhost);
#     a roster student logs in through HTTPS, gets a lab on its own origin, runs a task;
#  4. upgrade: a changed repository rebuilds the hub image and recreates the hub; the student's
#     running lab is untouched, and their data stays (the drill below logs in and finds it);
#  5. backup drill: a file in the student's home and an nbgrader-graded submission; a backup;
#     the stack and all its volumes destroyed; restore.yml; both found again;
#  6. the firewall's rules loaded in network namespaces: only 22/80/443 reachable from outside,
#     published container ports included;
#  7. the swarm topology (inventories/local-swarm): a single-node swarm, node labels, the stack on
#     the attachable overlay network, the swarm play again reporting changed=0; a student logs in
#     and gets a lab that is a swarm service on the labelled node, runs a task, and is culled;
#     the grading fleet's swarm service runs on the grader-labelled node and grades a submission
#     while the hub host's own grader is stopped.
# Everything it makes is removed at the end (CELERYLAB_KEEP_DEPLOY=1 keeps it); logs of a failure
# go to artifacts/deploy/; CELERYLAB_DEPLOY_ONLY=swarm runs step 7 only. With CI=true a missing
# Docker or Ansible fails; otherwise it skips.
set -euo pipefail
DEPLOY=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$(dirname "$DEPLOY")
WORK=/tmp/celerylab-deploy-ci # = celerylab_local_root in inventories/local
ARTIFACTS="$ROOT/artifacts/deploy"
VENV="$DEPLOY/.venv"
PROJECTS=(clab-deploy clab-swarm)
cd "$DEPLOY"

t0=$SECONDS
passed=0
failed=0
say() { printf '\n== deploy: %s (%ss)\n' "$*" "$((SECONDS - t0))"; }
missing() {
  if [ "${CI:-}" = true ]; then
    echo "deploy tests: $1" >&2
    exit 1
  fi
  echo "deploy tests skipped: $1"
  exit 0
}
check() { # check NAME COMMAND...: run one step, count it, stop at the first failure
  local name=$1
  shift
  say "$name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "deploy: FAILED: $name" >&2
    exit 1
  fi
}

# --- tools ---------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || missing "must run as root (the playbook manages Docker and /tmp paths)"
docker info >/dev/null 2>&1 || missing "the Docker engine is not running (scripts/bootstrap-docker.sh)"
docker compose version >/dev/null 2>&1 || missing "Docker Compose v2 is missing (scripts/bootstrap-docker.sh)"
command -v rsync >/dev/null 2>&1 || {
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsync >/dev/null
  else
    missing "rsync is missing"
  fi
}
# Every lab is on its own origin, <user>.celerylab.localhost (inventories/local): the tests'
# clients resolve *.localhost to loopback through glibc's myhostname module.
getent hosts probe.celerylab.localhost >/dev/null 2>&1 || {
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnss-myhostname >/dev/null
  fi
  getent hosts probe.celerylab.localhost >/dev/null 2>&1 || missing "*.localhost does not resolve (libnss-myhostname)"
}
stamp="$VENV/.installed-$(sha256sum "$ROOT/requirements/deploy.txt" | cut -c1-12)"
if [ ! -e "$stamp" ]; then
  say "installing Ansible (requirements/deploy.txt) into deploy/.venv"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || missing "python3 -m venv failed (apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check uv
  "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" -r "$ROOT/requirements/deploy.txt"
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH" ANSIBLE_CONFIG="$DEPLOY/ansible.cfg" ANSIBLE_FORCE_COLOR=0
command -v ansible-playbook >/dev/null || missing "ansible-playbook is not in deploy/.venv"
"$ROOT/scripts/base-image.sh" # pulled, or built from Debian's packages where no registry answers

# --- clean slate, and clean up at the end --------------------------------------------------
swarm_before=$(docker info --format '{{.Swarm.LocalNodeState}}')
destroy() {
  local p
  docker service ls -q --filter name=clab-swarm- 2>/dev/null | xargs -r docker service rm >/dev/null 2>&1 || true
  # A removed service's task containers go away shortly after; they hold the homes' volumes.
  for _ in $(seq 1 30); do
    docker ps -aq --filter label=com.docker.swarm.service.name | xargs -r docker inspect \
      --format '{{index .Config.Labels "com.docker.swarm.service.name"}}' | grep -q '^clab-swarm-' || break
    sleep 1
  done
  docker secret ls -q --filter name=clab-swarm- 2>/dev/null | xargs -r docker secret rm >/dev/null 2>&1 || true
  # Sandboxes the swarm's grader left (named by its hostname, grader-<node>).
  docker ps -aq --filter label=org.celerylab.sandbox=1 \
    --filter "label=org.celerylab.grader=grader-$(docker info --format '{{.Name}}')" | xargs -r docker rm -fv >/dev/null
  for p in "${PROJECTS[@]}"; do
    docker ps -aq --filter "name=^${p}-(lab|course)-" | xargs -r docker rm -f >/dev/null
    docker ps -aq --filter "label=com.docker.compose.project=$p" | xargs -r docker rm -f >/dev/null
    docker volume ls -q --filter "label=com.docker.compose.project=$p" | xargs -r docker volume rm -f >/dev/null
    docker volume ls -q | grep -E "^${p}-(home|course)-" | xargs -r docker volume rm -f >/dev/null || true
    docker network rm "$p" >/dev/null 2>&1 || true
  done
  rm -f /etc/cron.d/celerylab-backup-clab-deploy /etc/cron.d/celerylab-backup-clab-swarm
  rm -rf "$WORK"
}
dump_logs() {
  mkdir -p "$ARTIFACTS"
  local p dir
  for p in "${PROJECTS[@]}"; do
    dir="$WORK/celerylab"
    [ "$p" = clab-swarm ] && dir="$WORK/swarm/celerylab"
    [ -f "$dir/.env" ] && (cd "$dir" && docker compose logs --no-color >"$ARTIFACTS/$p-compose.log" 2>&1 || true)
    for c in $(docker ps -aq --filter "name=^${p}-lab-"); do
      docker logs "$c" >"$ARTIFACTS/$p-lab-$c.log" 2>&1 || true
    done
  done
  for c in $(docker service ls -q --filter name=clab-swarm- 2>/dev/null); do
    docker service ps --no-trunc "$c" >"$ARTIFACTS/clab-swarm-service-$c.log" 2>&1 || true
    docker service logs "$c" >>"$ARTIFACTS/clab-swarm-service-$c.log" 2>&1 || true
  done
  echo "deploy: logs in $ARTIFACTS/" >&2
}
finish() {
  local rc=$?
  [ "$rc" = 0 ] || dump_logs
  if [ "${CELERYLAB_KEEP_DEPLOY:-}" != 1 ]; then
    destroy
    if [ "$swarm_before" = inactive ] && [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != inactive ]; then
      docker swarm leave --force >/dev/null
    fi
  fi
  echo
  echo "deploy: took $((SECONDS - t0))s"
  echo "deploy: $passed passed, $failed failed"
  exit "$rc"
}
trap finish EXIT
destroy
rm -rf "$ARTIFACTS"
mkdir -p "$WORK"

# The repository as committed (CI's clean clone is the same); a dirty work tree of other work
# in progress is not deployed. CELERYLAB_DEPLOY_WORKTREE=1 deploys the work tree instead.
# The upgrade test changes this copy, never the repository.
SOURCE="$WORK/source"
mkdir -p "$SOURCE"
if [ "${CELERYLAB_DEPLOY_WORKTREE:-}" != 1 ] && git -C "$ROOT" rev-parse HEAD >/dev/null 2>&1; then
  git -C "$ROOT" archive HEAD | tar -x -C "$SOURCE"
else
  rsync -a --exclude=.git/ --exclude=.venv/ --exclude=artifacts/ --filter=dir-merge,-_.gitignore "$ROOT/" "$SOURCE/"
fi
playbook() { # playbook INVENTORY PLAYBOOK LOG [ARGS...]
  local inventory=$1 book=$2 log=$3
  shift 3
  ansible-playbook -i "inventories/$inventory" "$book" -e "celerylab_stack_source=$SOURCE" "$@" \
    >"$WORK/$log" 2>&1 || {
    tail -n 60 "$WORK/$log"
    cp "$WORK/$log" "$ARTIFACTS/" 2>/dev/null || { mkdir -p "$ARTIFACTS" && cp "$WORK/$log" "$ARTIFACTS/"; }
    return 1
  }
  grep -A3 '^PLAY RECAP' "$WORK/$log"
}
unchanged() { # unchanged LOG: the run's recap says changed=0 for every host
  if grep -E '^[^ ].*: ok=.*changed=[1-9]' "$WORK/$1"; then
    echo "not idempotent; changed tasks:" >&2
    grep -B2 -E '^changed:' "$WORK/$1" | grep '^TASK' >&2 || true
    return 1
  fi
}
idempotent() { # idempotent INVENTORY LOG [ARGS...]
  local inventory=$1 log=$2
  shift 2
  playbook "$inventory" site.yml "$log" "$@" && unchanged "$log"
}
pytest_() { python -m pytest -p no:cacheprovider -q "$@"; }

# CELERYLAB_DEPLOY_ONLY=swarm runs step 7 alone (while working on the swarm topology).
if [ "${CELERYLAB_DEPLOY_ONLY:-}" != swarm ]; then
# --- 1. lint --------------------------------------------------------------------------------
check "yamllint" yamllint --strict .
check "ansible-lint (production profile)" ansible-lint --profile production --offline -q
syntax() {
  local inventory
  for inventory in local local-swarm production scaleout; do
    ansible-playbook -i "inventories/$inventory" site.yml restore.yml --syntax-check >/dev/null || return 1
  done
}
check "syntax-check: site.yml, restore.yml x 4 inventories" syntax
# The daemon.json the docker role writes on a production host: live-restore, except on swarm
# hosts, whose dockerd would refuse to start with it (this machine's engine is shared, so the
# local inventories leave the file alone and this is checked as rendered, not applied).
live_restore() {
  local swarm=$1 want=$2 got
  got=$(ansible localhost -c local -m debug -e "celerylab_swarm_enabled=$swarm" \
    -e @roles/celerylab_docker/defaults/main.yml \
    -a 'msg={{ celerylab_docker_daemon_options["live-restore"] | to_json }}')
  grep -q "\"msg\": \"$want\"" <<<"$got" || { echo "swarm=$swarm: $got" >&2; return 1; }
}
live_restore_by_topology() { live_restore false true && live_restore true false; }
check "daemon.json: live-restore on a single host, off on swarm hosts" live_restore_by_topology

# --- 2. site.yml, twice -----------------------------------------------------------------
check "site.yml on this machine (TLS on 127.0.0.1:18443, celerylab.localhost)" playbook local site.yml site-1.log
check "site.yml again: changed=0" idempotent local site-2.log
check "acme mode: on-demand certificates only for one label below the domain" \
  tests/acme-ask-check.sh clab-deploy/tls-proxy:latest

# --- 3. HTTPS smoke test --------------------------------------------------------------------
# The hub's name (celerylab_tls_domain in inventories/local); labs at <user>.<it>.
DOMAIN=celerylab.localhost
export CELERYLAB_DEPLOY_URL=https://$DOMAIN:18443 CELERYLAB_DEPLOY_HTTP_URL=http://$DOMAIN:18080
export CELERYLAB_DEPLOY_CA="$WORK/tls/ca/ca.crt" CELERYLAB_DEPLOY_DIR="$WORK/celerylab"
export CELERYLAB_DEPLOY_STATE="$WORK/drill.json"
check "HTTPS smoke test" pytest_ tests/test_https.py

# --- 4. upgrade: a newer version of the repository rolls the hub forward; labs keep running --
upgrade() {
  local lab hub_before hub_after
  lab=$(docker ps -q --filter name=^clab-deploy-lab-student1$)
  hub_before=$(docker inspect -f '{{.Image}}' clab-deploy-hub-1)
  [ -n "$lab" ] || { echo "student1's lab is not running before the upgrade" >&2; return 1; }
  printf '"""Added by deploy/tests/run.sh: a newer release."""\nRELEASE = "upgrade-test"\n' \
    >"$SOURCE/hub/celerylab_hub/_upgrade_test.py"
  playbook local site.yml upgrade.log || return 1
  hub_after=$(docker inspect -f '{{.Image}}' clab-deploy-hub-1)
  [ "$hub_before" != "$hub_after" ] || { echo "the hub still runs the old image" >&2; return 1; }
  (cd "$WORK/celerylab" && docker compose exec -T hub python3 -c 'import celerylab_hub._upgrade_test') || return 1
  # The recreated proxy learns the running labs' routes from the hub once it has started; it
  # routes by host: the hub's API lists student1's lab as "student1.<domain>/user/student1/".
  local token i
  token=$(sed -n 's/^CELERYLAB_API_TOKEN=//p' "$WORK/celerylab/ops.env")
  for i in $(seq 1 60); do
    curl -sf --cacert "$WORK/tls/ca/ca.crt" -H "Authorization: token $token" \
      "$CELERYLAB_DEPLOY_URL/hub/api/proxy" | grep -qF "\"student1.$DOMAIN/user/student1/\"" && break
    [ "$i" = 60 ] && { echo "student1's route did not come back within a minute" >&2; return 1; }
    sleep 1
  done
  [ "$(docker ps -q --filter name=^clab-deploy-lab-student1$)" = "$lab" ] ||
    { echo "student1's lab did not survive the upgrade" >&2; return 1; }
  # The running lab's server checks a token it has not seen with the recreated hub, found by
  # name at its new address (the lab's resolver once kept the old one for Docker's 600 s TTL).
  local reach='import os, urllib.request as u
u.urlopen(u.Request("http://127.0.0.1:8888" + os.environ["JUPYTERHUB_SERVICE_PREFIX"] + "api/status",
                    headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}), timeout=10)'
  local start=$SECONDS
  until docker exec "$lab" python3 -c "$reach" >/dev/null 2>&1; do
    if [ $((SECONDS - start)) -ge 120 ]; then
      echo "student1's lab cannot check a token with the new hub after 2 min: 'hub' is $(docker exec "$lab" getent hosts hub)," \
        "the hub is at $(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' clab-deploy-hub-1)" >&2
      return 1
    fi
    sleep 1
  done
  i=$((SECONDS - start))
  echo "hub image $hub_before -> $hub_after; student1's lab $lab still running, reached the new hub after ${i} s"
}
check "upgrade: a newer release rolls the hub forward" upgrade

# --- 5. backup / restore drill --------------------------------------------------------------
check "drill: a student's file and a graded submission" pytest_ tests/drill_1_before_backup.py
check "drill: backup" "$WORK/bin/celerylab-backup" run
destroy_stack() {
  # Labs and course containers are not compose's: they go first, or they keep volumes in use.
  docker ps -aq --filter "name=^clab-deploy-(lab|course)-" | xargs -r docker rm -f &&
    (cd "$WORK/celerylab" && docker compose down --volumes --remove-orphans) &&
    docker volume ls -q | grep -E '^clab-deploy-(home|course)-' | xargs -r docker volume rm &&
    rm -f "$WORK/celerylab/ops.env" &&
    left=$(docker volume ls -q | grep -E '^clab-deploy[-_]' || true) &&
    { [ -z "$left" ] || { echo "volumes left: $left" >&2; return 1; }; }
}
check "drill: destroy the stack and its volumes" destroy_stack
check "drill: restore.yml" playbook local restore.yml restore.log
check "drill: the file and the grade are back" pytest_ tests/drill_2_after_restore.py

# --- 6. firewall -------------------------------------------------------------------------
check "firewall rules in network namespaces" tests/firewall-netns.sh "$WORK/firewall/celerylab.nft"

fi # CELERYLAB_DEPLOY_ONLY

# --- 7. swarm ---------------------------------------------------------------------------
if [ "$swarm_before" != inactive ]; then
  echo "this Docker engine is already in a swarm ($swarm_before): the swarm test needs one it may create" >&2
  exit 1
fi
check "site.yml, swarm topology (single-node swarm)" playbook local-swarm site.yml swarm-1.log
# The rest of site.yml is proven idempotent above; here the swarm's own tasks.
check "the swarm play again (--tags swarm): changed=0" idempotent local-swarm swarm-2.log --tags swarm
check "swarm: labels, overlay network, the hub's swarm spawner" \
  tests/swarm-check.sh clab-swarm "$WORK/swarm/celerylab" https://celerylab-swarm.localhost:18543
check "swarm: the grading fleet's service on the grader node grades a sealed submission" \
  tests/swarm-grader-check.sh clab-swarm "$WORK/swarm/celerylab"
swarm_lab() {
  CELERYLAB_DEPLOY_URL=https://celerylab-swarm.localhost:18543 \
    CELERYLAB_DEPLOY_HTTP_URL=http://celerylab-swarm.localhost:18180 \
    CELERYLAB_DEPLOY_CA="$WORK/swarm/tls/ca/ca.crt" CELERYLAB_DEPLOY_DIR="$WORK/swarm/celerylab" \
    CELERYLAB_DEPLOY_PROJECT=clab-swarm pytest_ tests/test_swarm_lab.py
}
check "swarm: a student's lab as a swarm service on the lab node, a task, culled" swarm_lab
