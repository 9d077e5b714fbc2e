# Both images of the Compose system, from one build: the TypeScript is compiled once, in the `build` stage, and
# each runtime stage takes its own compiled program and only the packages that program imports (its workspace's
# package.json). Build context is the repository root:
#   docker build --target server -t grpc-server .      (compose: build: {context: ., target: server})
#   docker build --target client -t grpc-client .

# --- build: every dependency (TypeScript included) and the compile, shared by both images ---
FROM node:24.11.1-bookworm-slim AS build
WORKDIR /app
# Manifests first, so the npm ci layer is reused until a dependency changes. npm ci checks the lockfile against
# every workspace, so all three manifests come along.
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY client/package.json client/
# --ignore-scripts: nothing here needs an install script (esbuild and buf ship their binaries as packages).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gen/ gen/
COPY server/src/ server/src/
COPY client/src/ client/src/
RUN npx tsc -p tsconfig.build.json

# --- the production packages of one workspace each: what its program imports, nothing for the lab or tests ---
FROM node:24.11.1-bookworm-slim AS server-packages
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY client/package.json client/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace server && npm cache clean --force

FROM node:24.11.1-bookworm-slim AS client-packages
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY client/package.json client/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace client && npm cache clean --force

# --- the greeter replica ---
FROM node:24.11.1-bookworm-slim AS server
ENV NODE_ENV=production
WORKDIR /app
COPY --from=server-packages /app/node_modules/ node_modules/
COPY --from=build /app/dist/gen/ dist/gen/
COPY --from=build /app/dist/server/ dist/server/
# `docker compose exec grpc-server greeterctl health not-serving`: the control CLI on PATH.
RUN printf '#!/bin/sh\nexec node /app/dist/server/src/control-cli.js "$@"\n' >/usr/local/bin/greeterctl \
 && chmod 755 /usr/local/bin/greeterctl
# Files stay root-owned (read-only to the process); the server itself runs unprivileged.
USER node
# gRPC; the control API (8081) binds 127.0.0.1 by default and is reached with `docker compose exec`.
EXPOSE 8080
# Same probe Compose uses; kept here so `docker run` alone also reports health.
HEALTHCHECK --interval=2s --timeout=3s --start-period=5s --retries=3 CMD ["node", "dist/server/src/health-probe.js"]
CMD ["node", "dist/server/src/main.js"]

# --- the worker client (and the load generator, `node dist/client/src/load/main.js`) ---
FROM node:24.11.1-bookworm-slim AS client
ENV NODE_ENV=production
WORKDIR /app
COPY --from=client-packages /app/node_modules/ node_modules/
COPY --from=build /app/dist/gen/ dist/gen/
COPY --from=build /app/dist/client/ dist/client/
USER node
# Compose adds an init (init: true); main.ts handles SIGTERM itself (drain in-flight calls, final summary, exit 0).
CMD ["node", "dist/client/src/main.js"]
