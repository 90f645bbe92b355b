# m365-mock as a test fixture:
#   docker build -t m365-mock .
#   docker run -p 4365:4365 m365-mock                                         # built-in scenarios
#   docker run -p 4365:4365 -v $PWD/scenarios:/scenarios:ro m365-mock --scenario /scenarios
# Every flag also works as an environment variable (-e M365_MOCK_SEED=42, -e M365_MOCK_SCENARIO=/scenarios).

# --- build: compile TypeScript with the dev dependencies ---
FROM node:20-bookworm-slim AS build
# a C compiler for dist/native/malloc.node (glibc's malloc_trim after a burst: docs/hardening.md);
# node's N-API headers come from the node-api-headers dev dependency
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/build-native.mjs scripts/write-validator.mjs scripts/build-surface.mjs scripts/build-permissions.mjs scripts/copy-ui.mjs ./scripts/
# Graph's model (Microsoft's v1.0 CSDL) and permission map: the build compiles them into dist/surface/, dist/identity/
COPY reference ./reference
# the build parses the built-in scenarios once (dist/scenario/scenario-cache.json: faster start-up)
COPY scenarios ./scenarios
RUN npm run build

# --- runtime: production dependencies, the compiled code, scenarios and schema; non-root ---
FROM node:20-bookworm-slim
# glibc: two malloc arenas, and blocks of 64 KiB or more mapped on their own so a freed request body
# goes back to the OS; with the malloc_trim addon, a 20,000-request hostile fuzz peaks at 185–187 MiB
# and is back at the start a minute later (bench/results.md); ~11 % more CPU a request than glibc's defaults
ENV NODE_ENV=production \
    M365_MOCK_HOST=0.0.0.0 \
    M365_MOCK_PORT=4365 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=65536 \
    MALLOC_TRIM_THRESHOLD_=65536
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY scenarios ./scenarios
COPY schema ./schema
USER node
EXPOSE 4365
# slim images have no curl: the CLI probes /__admin/health itself (http, or https with --tls)
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "dist/cli.js", "healthcheck"]
# exec form: node is PID 1 and receives SIGTERM itself; the CLI drains and exits 0 in under a second
ENTRYPOINT ["node", "dist/cli.js"]
