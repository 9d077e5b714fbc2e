#!/bin/sh
# As the official nginx and haproxy images' entrypoints do for the scorecard's commands: a first argument that is a
# flag runs the image's program with it; anything else runs as given.
set -e
if [ "${1#-}" != "$1" ]; then
  if command -v haproxy >/dev/null 2>&1; then set -- haproxy "$@"; else set -- nginx "$@"; fi
fi
exec "$@"
