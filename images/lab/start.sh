#!/bin/bash
# Start a celerylab student lab.
#
# As root (how the hub starts labs): create the student's account with the UID the hub chose,
# hand the home volume to it, then re-run this script as the student with no privileges left.
# As the student: write the private Redis config, start Redis and the Celery worker under runit,
# then exec the command (jupyterhub-singleuser).
set -euo pipefail

die() { echo "celerylab-lab: $*" >&2; exit 64; }

: "${NB_USER:?celerylab-lab: NB_USER (the hub user name) must be set}"
: "${CELERYLAB_UID:?celerylab-lab: CELERYLAB_UID must be set}"
: "${CELERYLAB_REDIS_PASSWORD:?celerylab-lab: CELERYLAB_REDIS_PASSWORD must be set}"
[[ "$NB_USER" =~ ^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$ ]] || die "NB_USER '$NB_USER' is not a valid user name"
[[ "$CELERYLAB_UID" =~ ^[0-9]+$ ]] && (( CELERYLAB_UID >= 1000 && CELERYLAB_UID < 2147483647 )) \
  || die "CELERYLAB_UID '$CELERYLAB_UID' must be a number >= 1000"
[[ "$CELERYLAB_REDIS_PASSWORD" =~ ^[A-Za-z0-9_-]{16,}$ ]] \
  || die "CELERYLAB_REDIS_PASSWORD must be at least 16 URL-safe characters"

home=/home/student
run=/run/celerylab

if [ "$(id -u)" = 0 ]; then
  # nbgrader takes the student id from the OS user name, so the account is named after the hub user.
  if ! getent passwd "$CELERYLAB_UID" >/dev/null; then
    echo "$NB_USER:x:$CELERYLAB_UID:$CELERYLAB_UID:celerylab student:$home:/bin/bash" >>/etc/passwd
    echo "$NB_USER:x:$CELERYLAB_UID:" >>/etc/group
  fi
  # A new named volume belongs to root: give it (and anything copied into it) to the student.
  if [ "$(stat -c %u "$home")" != "$CELERYLAB_UID" ]; then
    chmod 0700 "$home"
    chown -R "$CELERYLAB_UID:$CELERYLAB_UID" "$home"
  fi
  install -d -o "$CELERYLAB_UID" -g "$CELERYLAB_UID" -m 0700 "$run"
  # A course container has only its own course's folder of the exchange. It belongs to the
  # course's UID (nbgrader wants to own it), with the exchange service's group (2000): the
  # service files submissions into inbound (2770) and keeps its quota ledger there. If the
  # course's UID changed, its releases and feedback follow it.
  if [ -n "${CELERYLAB_EXCHANGE_COURSE:-}" ]; then
    [[ "$CELERYLAB_EXCHANGE_COURSE" =~ ^[a-z][a-z0-9-]{1,39}$ ]] \
      || die "CELERYLAB_EXCHANGE_COURSE '$CELERYLAB_EXCHANGE_COURSE' is not a course id"
    exchange=/srv/celerylab/exchange
    course_dir="$exchange/$CELERYLAB_EXCHANGE_COURSE"
    mkdir -p "$course_dir/inbound"
    chown "$CELERYLAB_UID:$CELERYLAB_UID" "$exchange"  # nbgrader checks its root is writable
    for part in outbound feedback; do
      if [ -d "$course_dir/$part" ] && [ "$(stat -c %u "$course_dir/$part")" != "$CELERYLAB_UID" ]; then
        chown -R "$CELERYLAB_UID:2000" "$course_dir/$part"
      fi
    done
    chown "$CELERYLAB_UID:2000" "$course_dir" "$course_dir/inbound"
    chmod 2775 "$course_dir"
    chmod 2770 "$course_dir/inbound"
  fi
  # A student lab's network fence (celerylab_lab.firewall), before anything of the student runs;
  # without it the lab does not start. Isolated Python, from /: nothing in the home is imported.
  if [ "${CELERYLAB_LAB_FIREWALL:-}" = 1 ]; then
    rules=$(cd / && /opt/lab/bin/python -I -m celerylab_lab.firewall) || die "no network fence: see above"
    nft -f - <<<"$rules" || die "could not apply the network fence (the lab needs CAP_NET_ADMIN)"
  fi
  exec setpriv --reuid="$CELERYLAB_UID" --regid="$CELERYLAB_UID" --clear-groups \
    --inh-caps=-all --no-new-privs \
    env HOME="$home" USER="$NB_USER" LOGNAME="$NB_USER" SHELL=/bin/bash "$0" "$@"
fi

[ "$(id -u)" = "$CELERYLAB_UID" ] || die "running as UID $(id -u), expected CELERYLAB_UID=$CELERYLAB_UID"
# A course's released feedback must be readable by the exchange service (another UID); its home
# stays 0700. A student's lab shares nothing.
if [ -n "${CELERYLAB_EXCHANGE_COURSE:-}" ]; then umask 022; else umask 077; fi
cd "$home"

redis_url="redis://:${CELERYLAB_REDIS_PASSWORD}@127.0.0.1:6379"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-$redis_url/0}"
export CELERY_RESULT_BACKEND="${CELERY_RESULT_BACKEND:-$redis_url/1}"
cat >"$run/redis.conf" <<CONF
bind 127.0.0.1
port 6379
protected-mode yes
requirepass ${CELERYLAB_REDIS_PASSWORD}
save ""
appendonly no
dir $run
maxmemory ${CELERYLAB_REDIS_MAXMEMORY:-64mb}
maxmemory-policy noeviction
CONF
unset CELERYLAB_REDIS_PASSWORD

if [ -n "${CELERYLAB_COURSE:-}" ]; then
  # A course container (the formgrader service of a course): configure nbgrader for the
  # course. Its home is the course directory: no student's starter files in it.
  /opt/lab/bin/python -m celerylab_lab.course
else
  # First start of a new home: a welcome notebook and a starter tasks.py (never overwritten).
  [ -e "$home/.celerylab-initialised" ] || {
    cp -rn /etc/celerylab/skel/. "$home/" && touch "$home/.celerylab-initialised"
  }
fi

cp -r /etc/celerylab/service "$run/service"
runsvdir "$run/service" &
exec "$@"
