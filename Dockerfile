# Kova: one image, one entry point (`kova controller`, `kova api`, `kova sim`).
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
# The runtime settings src/runtime-env.ts names (a 4 MiB young generation, two malloc arenas: a third
# less memory with thousands of servers cached); the chart sets them too (values `runtime`).
ENV NODE_OPTIONS=--max-semi-space-size=4 MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY crds ./crds
# The image's unprivileged "node" user (uid 1000).
USER 1000:1000
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["--help"]
