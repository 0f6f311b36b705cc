# syntax=docker/dockerfile:1
# stackd image: the `stack` service of docker-compose.yml (docs/labs.md).
#
# Stage "build": npm ci compiles the native TAP addon (node-gyp, "install" script; it
# fetches Node's headers unless they are cached) and the TypeScript (tsc, "prepare"
# script), then drops the dev dependencies.
# Stage "load": the compose load profile (docker/load.sh, stackd-load): Node on Debian slim,
# the clients stackd-load runs (netcat-openbsd, curl) and ping, and the built app.
# Stage "runtime" (the last, so the default target): Node on Debian slim, iproute2 (ip
# tuntap/link/addr for the entrypoint), arping (its duplicate-address check), curl (the
# HEALTHCHECK), and the built app only. The entrypoint moves the container's address from
# the kernel to stackd, then execs it.

FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json binding.gyp tsconfig.json ./
COPY native ./native
COPY src ./src
COPY workers ./workers
COPY perf ./perf
COPY scripts ./scripts
COPY load ./load
RUN npm ci --no-audit --no-fund \
 && test -f build/Release/stackd_tap.node \
 && test -f dist/src/cli/stackd.js \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS load
RUN apt-get update \
 && apt-get install -y --no-install-recommends netcat-openbsd curl iputils-ping \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --chmod=0755 docker/load.sh ./docker/load.sh
CMD ["/app/docker/load.sh"]

FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 arping curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build/Release/stackd_tap.node ./build/Release/stackd_tap.node
COPY --from=build /app/dist ./dist
COPY --chmod=0755 docker/stack-entrypoint.sh ./docker/stack-entrypoint.sh
# Defaults of the entrypoint (docker run -e / compose environment: override them).
ENV NODE_ENV=production \
    STACKD_WORKERS=4 \
    STACKD_TAP=tap0 \
    STACKD_CONTROL=/run/stackd/tap0.sock \
    STACKD_ARGS=""
# Healthy when the I/O thread and every worker are alive (GET /health on the control socket).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD curl -fsS --max-time 2 --unix-socket "$STACKD_CONTROL" http://stackd/health || exit 1
# Needs: --cap-add NET_ADMIN --device /dev/net/tun (the entrypoint says so if missing).
ENTRYPOINT ["/app/docker/stack-entrypoint.sh"]
# No arguments: the entrypoint runs stackd --workers $STACKD_WORKERS --tap $STACKD_TAP.
CMD []
