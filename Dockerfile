# stackd image (first version; the labs issue completes the entrypoint and checks).
# Build stage: compiles the native TAP addon (node-gyp) and the TypeScript, then prunes
# dev dependencies. Runtime stage: Node, iproute2 and the built app only.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json binding.gyp tsconfig.json ./
COPY native ./native
COPY src ./src
COPY workers ./workers
COPY perf ./perf
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build/Release/stackd_tap.node ./build/Release/stackd_tap.node
COPY --from=build /app/dist ./dist
COPY lab ./lab
ENV STACKD_WORKERS=4 STACKD_TAP=tap0
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD curl -fsS --unix-socket /run/stackd/${STACKD_TAP}.sock http://stackd/health || exit 1
ENTRYPOINT ["node", "/app/dist/src/cli/stackd.js"]
CMD ["--workers", "4", "--tap", "tap0"]
