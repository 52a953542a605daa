#!/usr/bin/env bash
# Installs what certman's tests and demo need, and nothing that is already there.
#
#   bash scripts/ensure-deps.sh [pebble] [nginx] [redis] [redis-sentinel] [tmux] [certbot] [lego] [zsh] [fish] [groff] [mandoc] [apache] [haproxy] [promtool]
#                                                                              (default: pebble nginx)
#
# - checks Node.js >= 20;
# - runs `npm ci` when node_modules is missing or older than package-lock.json;
# - installs the Debian packages providing the requested programs:
#     pebble -> pebble, pebble-challtestsrv (package pebble) and openssl
#     nginx  -> nginx (package nginx-light)
#     redis  -> redis-server (package redis-server)
#     redis-sentinel -> redis-sentinel (package redis-sentinel; fleet mode's failover tests)
#     tmux   -> tmux (a real terminal for the prompt tests)
#     certbot -> certbot (real certbot lineages for the import-certbot tests)
#     lego   -> lego (only bench/compare uses it; npm test does not)
#     zsh    -> zsh, fish -> fish (the shell completion tests run them)
#     groff  -> groff (package groff-base), mandoc -> mandoc (the man page must render without warnings)
#     apache -> apache2, haproxy -> haproxy (the README's recipes run against them)
#     promtool -> promtool (package prometheus; `certman metrics` output and the example alert rules are checked with it)
#   As root this runs apt-get; otherwise it prints the command to run and fails.
# Safe to run again and again: it does nothing when everything is in place.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'ensure-deps: %s\n' "$*"; }
die() { printf 'ensure-deps: %s\n' "$*" >&2; exit 1; }

# --- Node.js -----------------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
  die "node is not installed; certman needs Node.js 20 or newer (https://nodejs.org, or your distribution's nodejs package)"
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  die "Node.js $(node --version) is too old; certman needs Node.js 20 or newer"
fi
if ! command -v npm >/dev/null 2>&1; then
  die "npm is not installed (it normally comes with Node.js)"
fi

# --- npm packages ------------------------------------------------------------
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# --- system programs -----------------------------------------------------------
# Looks in PATH and in the sbin directories a non-root PATH often lacks.
have() {
  command -v "$1" >/dev/null 2>&1 && return 0
  local dir
  for dir in /usr/local/sbin /usr/sbin /sbin; do
    [ -x "$dir/$1" ] && return 0
  done
  return 1
}

wanted=("$@")
[ "${#wanted[@]}" -eq 0 ] && wanted=(pebble nginx)

missing_pkgs=()
add_pkg() {
  local p
  for p in "${missing_pkgs[@]+"${missing_pkgs[@]}"}"; do
    [ "$p" = "$1" ] && return 0
  done
  missing_pkgs+=("$1")
}

for want in "${wanted[@]}"; do
  case "$want" in
    pebble | pebble-challtestsrv)
      have pebble || add_pkg pebble
      have pebble-challtestsrv || add_pkg pebble
      have openssl || add_pkg openssl
      ;;
    nginx | nginx-light)
      have nginx || add_pkg nginx-light
      ;;
    redis | redis-server)
      have redis-server || add_pkg redis-server
      ;;
    redis-sentinel)
      have redis-sentinel || add_pkg redis-sentinel
      ;;
    tmux)
      have tmux || add_pkg tmux
      ;;
    apache | apache2)
      have apache2 || add_pkg apache2
      ;;
    haproxy)
      have haproxy || add_pkg haproxy
      ;;
    promtool | prometheus)
      have promtool || add_pkg prometheus
      ;;
    certbot)
      have certbot || add_pkg certbot
      ;;
    lego)
      have lego || add_pkg lego
      ;;
    zsh | fish | mandoc)
      have "$want" || add_pkg "$want"
      ;;
    groff | groff-base)
      have groff || add_pkg groff-base
      ;;
    *)
      die "unknown dependency '$want' (known: pebble, nginx, redis, redis-sentinel, tmux, certbot, lego, zsh, fish, groff, mandoc, apache, haproxy, promtool)"
      ;;
  esac
done

if [ "${#missing_pkgs[@]}" -eq 0 ]; then
  say "all dependencies present (node $(node --version); ${wanted[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  {
    printf 'ensure-deps: missing Debian packages: %s\n' "${missing_pkgs[*]}"
    printf 'ensure-deps: install them with:\n\n'
    printf '    sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n\n' "${missing_pkgs[*]}"
    printf 'ensure-deps: then run this command again.\n'
  } >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  die "missing packages (${missing_pkgs[*]}) and no apt-get on this system; install them with your package manager"
fi

say "installing Debian packages: ${missing_pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing_pkgs[@]}"

# Check that the install really provided the programs.
still_missing=()
for want in "${wanted[@]}"; do
  case "$want" in
    pebble | pebble-challtestsrv) for b in pebble pebble-challtestsrv openssl; do have "$b" || still_missing+=("$b"); done ;;
    nginx | nginx-light) have nginx || still_missing+=(nginx) ;;
    redis | redis-server) have redis-server || still_missing+=(redis-server) ;;
    redis-sentinel) have redis-sentinel || still_missing+=(redis-sentinel) ;;
    tmux) have tmux || still_missing+=(tmux) ;;
    apache | apache2) have apache2 || still_missing+=(apache2) ;;
    haproxy) have haproxy || still_missing+=(haproxy) ;;
    promtool | prometheus) have promtool || still_missing+=(promtool) ;;
    certbot) have certbot || still_missing+=(certbot) ;;
    lego) have lego || still_missing+=(lego) ;;
    zsh | fish | mandoc) have "$want" || still_missing+=("$want") ;;
    groff | groff-base) have groff || still_missing+=(groff) ;;
  esac
done
if [ "${#still_missing[@]}" -ne 0 ]; then
  die "still missing after apt-get install: ${still_missing[*]}"
fi
say "dependencies installed"
