#!/usr/bin/env bash
# `npm run setup:standins`: makes sure the balancer images the scorecard runs under Docker exist. On a machine that
# reaches a registry nothing is built: Docker pulls the official images. Where none is reachable (this kit's CI), each
# missing tag is built as a stand-in FROM local/debian:bookworm (made by ../shared/docker-engine/engine.sh) with
# Debian's package, from balancers/standins/. Idempotent: a tag that exists is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Keep in step with scripts/scorecard/docker-site.ts (a static test checks they agree).
images=(nginx:1.22.1 haproxy:2.6.12)

say() { printf 'setup-standins: %s\n' "$*"; }
command -v docker >/dev/null || { say 'no docker CLI on PATH (install Docker, or source the engine env.sh)' >&2; exit 1; }
docker info >/dev/null 2>&1 || { say 'no Docker engine answers (is it running? DOCKER_HOST?)' >&2; exit 1; }

for image in "${images[@]}"; do
  if docker image inspect "$image" >/dev/null 2>&1; then say "$image exists"; continue; fi
  if docker pull -q "$image" >/dev/null 2>&1; then say "$image pulled"; continue; fi
  if ! docker image inspect local/debian:bookworm >/dev/null 2>&1; then
    say "cannot pull $image and no local/debian:bookworm to build a stand-in from (run ../shared/docker-engine/engine.sh up)" >&2
    exit 1
  fi
  name=${image%%:*}
  say "no registry answers: building a stand-in $image from balancers/standins/$name.Dockerfile (Debian bookworm's $name)"
  DOCKER_BUILDKIT=0 docker build -q -t "$image" -f "balancers/standins/$name.Dockerfile" balancers/standins >/dev/null
done
