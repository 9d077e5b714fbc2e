#!/bin/sh
# Runs Envoy in its container so that a new config replaces the running one with no call lost: Envoy's hot restart.
#
#   hot-restart.sh <config> [envoy flags...]      (docker-compose.yml: the envoy service's command)
#
# SIGHUP starts the next Envoy (restart epoch + 1) on the config written to $ENVOY_NEXT_CONFIG (`lab policy` writes
# it). The new process initialises fully (DNS, first health checks) while the old one keeps serving, then takes
# over the listening sockets and the admin port; the old one drains (its connections get GOAWAY, calls in flight
# finish) and exits. A config the new Envoy rejects leaves the old one serving. SIGTERM or SIGINT stop every Envoy.
# POSIX sh only: the Envoy image has no other interpreter.
set -u

config=$1
shift
next=${ENVOY_NEXT_CONFIG:-/tmp/envoy-next.yaml}
epoch=0
current=
previous=
reload=0
stop=0

log() { echo "hot-restart: $*" >&2; }

# True while the process runs (a zombie left for us to reap has already exited).
alive() { [ -n "$1" ] && [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

launch() { # launch <config> [envoy flags...]
  cfg=$1
  shift
  # drain-time 2 s: GOAWAY spreads over 2 s; parent-shutdown 4 s: then the old process exits, drained.
  envoy -c "$cfg" --restart-epoch "$epoch" --drain-time-s 2 --parent-shutdown-time-s 4 "$@" &
  current=$!
}

trap 'reload=1' HUP
trap 'stop=1' TERM INT
launch "$config" "$@"
while :; do
  wait "$current"
  code=$?
  if [ "$stop" = 1 ]; then
    for pid in $current $previous; do kill -TERM "$pid" 2>/dev/null; done
    wait
    exit 0
  fi
  if [ "$reload" = 1 ]; then
    reload=0
    if [ ! -s "$next" ]; then
      log "SIGHUP without a config at $next: epoch $epoch keeps serving"
      continue
    fi
    previous=$current
    epoch=$((epoch + 1))
    log "epoch $epoch starting with $next"
    launch "$next" "$@"
    continue
  fi
  # Woken by a signal while it still runs: keep waiting.
  if alive "$current"; then continue; fi
  # The current Envoy exited. If it was a new epoch that failed, the one before it is still serving.
  if alive "$previous"; then
    log "epoch $epoch exited with code $code; epoch $((epoch - 1)) keeps serving"
    current=$previous
    previous=
    epoch=$((epoch - 1))
    continue
  fi
  log "Envoy exited with code $code"
  exit "$code"
done
