#!/usr/bin/env bash
# certman's full check: dependencies, lint, typecheck, build, unit and e2e tests, and the README's demo.
# This is what `npm test` and CI run. Works without a TTY and without stdin.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# No interactive input anywhere, even when started with stdin closed.
exec </dev/null
export CI="${CI:-true}"

step_no=0
suite_start=$SECONDS
step() {
  step_no=$((step_no + 1))
  local title="$1"
  shift
  printf '\n==== [%d/7] %s\n==== $ %s\n' "$step_no" "$title" "$*"
  local t0=$SECONDS
  if "$@"; then
    printf '==== [%d/7] %s: ok (%ds)\n' "$step_no" "$title" $((SECONDS - t0))
  else
    local rc=$?
    printf '\n==== [%d/7] %s: FAILED (exit %d)\n' "$step_no" "$title" "$rc" >&2
    exit "$rc"
  fi
}

step "dependencies" bash scripts/ensure-deps.sh pebble nginx redis redis-sentinel tmux certbot zsh fish groff mandoc apache haproxy promtool
step "lint" npx eslint .
step "typecheck" npx tsc -p tsconfig.test.json --noEmit
step "build" npx tsc -p tsconfig.json
step "unit tests" node scripts/run-tests.mjs unit
step "e2e tests" node scripts/run-tests.mjs e2e
step "demo (the README's main job)" bash scripts/demo.sh

printf '\n==== all checks passed (%ds)\n' $((SECONDS - suite_start))
