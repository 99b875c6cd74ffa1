# Sourced by courses-sync.sh and roster-import.sh: initial passwords go to a NEW file,
# <dir>/initial-passwords-<UTC time>.csv (mode 0600; CELERYLAB_CREDENTIALS_DIR names another
# folder than credentials/), never to one that exists, so passwords already handed out are
# never overwritten. A run that issues none leaves no file.
umask 077
credentials="${CELERYLAB_CREDENTIALS_DIR:-credentials}"
mkdir -p "$credentials"

# Print a name for a new credentials file; two runs in one second wait for a name of their own.
new_credentials_file() {
  local out
  out="$credentials/initial-passwords-$(date -u +%Y%m%dT%H%M%SZ).csv"
  while [ -e "$out" ]; do
    sleep 1
    out="$credentials/initial-passwords-$(date -u +%Y%m%dT%H%M%SZ).csv"
  done
  echo "$out"
}

# Run a command with its standard output in a new credentials file (noclobber: never an old
# one); keep the file only if it holds a password, and say where it is. Returns its status.
to_credentials_file() {
  local out rc=0
  out="$(new_credentials_file)"
  (set -o noclobber && "$@" >"$out") || rc=$?
  if [ "$(wc -l <"$out")" -gt 1 ]; then
    echo "new initial passwords in $out (hand them out; the file stays as it is)" >&2
  else
    rm -f "$out"
  fi
  return "$rc"
}
