#!/usr/bin/env bash
# certman end to end against a private Pebble on this machine (no internet):
# register, issue (standalone HTTP-01), list, renew, list, revoke.
#
#   npm run demo        (same as: bash scripts/demo.sh)
#
# Leaves the certificates in a temp config dir and prints where it is.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n== %s\n' "$*"; }

say "checking dependencies"
bash scripts/ensure-deps.sh pebble

# Build when dist/ is missing or older than any file in src/.
newest() { find "$1" -type f -printf '%T@\n' 2>/dev/null | sort -n | tail -n 1; }
needs_build=no
if [ ! -d dist ] || [ ! -f dist/cli/main.js ]; then
  needs_build=yes
else
  src_t="$(newest src)"
  dist_t="$(newest dist)"
  if awk -v s="${src_t:-0}" -v d="${dist_t:-0}" 'BEGIN { exit !(s > d) }'; then needs_build=yes; fi
fi
if [ "$needs_build" = yes ]; then
  say "building certman (npm run build)"
  npm run build
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/certman-demo-XXXXXX")"
CONFIG_DIR="$WORK/config"
ENV_FILE="$WORK/pebble.env"
PEBBLE_LOG="$WORK/local-pebble.log"
mkdir -p "$CONFIG_DIR"
PEBBLE_PID=""

cleanup() {
  local rc=$?
  if [ -n "$PEBBLE_PID" ] && kill -0 "$PEBBLE_PID" 2>/dev/null; then
    kill -TERM "$PEBBLE_PID" 2>/dev/null || true
    wait "$PEBBLE_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ]; then
    printf '\ndemo FAILED (exit %d); files kept in %s\n' "$rc" "$WORK" >&2
    if [ -s "$PEBBLE_LOG" ]; then
      printf -- '--- local-pebble output (tail) ---\n' >&2
      tail -n 20 "$PEBBLE_LOG" >&2
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting a private Pebble ACME server"
node scripts/local-pebble.mjs --write-env "$ENV_FILE" --validity 3600 >"$PEBBLE_LOG" 2>&1 </dev/null &
PEBBLE_PID=$!
for _ in $(seq 1 300); do
  [ -s "$ENV_FILE" ] && break
  if ! kill -0 "$PEBBLE_PID" 2>/dev/null; then
    echo "local-pebble exited before it was ready:" >&2
    cat "$PEBBLE_LOG" >&2
    PEBBLE_PID=""
    exit 1
  fi
  sleep 0.1
done
if [ ! -s "$ENV_FILE" ]; then
  echo "local-pebble did not get ready within 30 s" >&2
  exit 1
fi
# shellcheck disable=SC1090
. "$ENV_FILE"
export CERTMAN_SERVER CERTMAN_CA_FILE CERTMAN_RESOLVER CERTMAN_VALIDATION_PORT
export CERTMAN_CONFIG_DIR="$CONFIG_DIR"
echo "CERTMAN_SERVER=$CERTMAN_SERVER"
echo "CERTMAN_CA_FILE=$CERTMAN_CA_FILE"
echo "CERTMAN_CONFIG_DIR=$CERTMAN_CONFIG_DIR"
echo "CERTMAN_RESOLVER=$CERTMAN_RESOLVER   (the self-check resolves names like Pebble: through its DNS server)"
echo "PEBBLE_HTTP_PORT=$PEBBLE_HTTP_PORT   (Pebble checks HTTP-01 tokens on 127.0.0.1:$PEBBLE_HTTP_PORT)"

rand="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
NAME="demo-$rand.certman.test"

# Echo a command, run it, stop the demo if it fails.
run() {
  printf '\n$ %s\n' "$*"
  local rc=0
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf 'demo: step failed (exit %d): %s\n' "$rc" "$*" >&2
    exit 1
  fi
}

run node bin/certman register --email demo@example.com --agree-tos
run node bin/certman issue -d "$NAME" --standalone --http-port "$PEBBLE_HTTP_PORT" --http-address 127.0.0.1
run node bin/certman certificates
run node bin/certman renew --force --no-random-sleep   # renew sleeps 1-480 s first off a terminal (cron); not here
run node bin/certman certificates
run node bin/certman revoke --cert-name "$NAME" --reason superseded

say "done: the files are in $CONFIG_DIR/live/$NAME/"
ls -l "$CONFIG_DIR/live/$NAME/"
echo
echo "(config dir kept: $CONFIG_DIR; remove it with: rm -rf $WORK)"
