# syntax=docker/dockerfile:1
#
# One image for every Tasklane process; compose picks the command:
#   api     npm run start -w @tasklane/api       (the default CMD)
#   worker  npm run start -w @tasklane/worker
#   migrate npm run db:migrate
# The apps run TypeScript directly through tsx (their `start` scripts), so there is no compile step:
# the runtime stage keeps the sources plus production dependencies only, and tsx must therefore be
# a production dependency of the packages whose scripts call it (root, apps/api, apps/worker).
#
# Stages: base (Node + the npm the lockfile was made with) → deps (npm ci, all dependencies)
# → build (sources, Prisma client, prune dev dependencies) → runtime (non-root, NODE_ENV=production).
# Health checks live in docker-compose.yml, not here.

# Node 24 LTS, as package.json "engines" requires (issue #10).
FROM node:24-bookworm-slim AS base
# Exactly the npm of package.json "packageManager", whichever npm the image bundles: npm 11 honours
# package.json "allowScripts", which keeps Prisma's engine download out of the install (npm 10 would
# run it).
ARG NPM_VERSION=11.19.1
RUN npm install --global "npm@${NPM_VERSION}" && npm cache clean --force
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app

FROM base AS deps
# Manifests first, so this layer is rebuilt only when dependencies change. npm ci needs every
# workspace's package.json; the root postinstall (scripts/generatePrisma.mjs) needs the schema.
COPY package.json package-lock.json .npmrc prisma.config.ts ./
COPY scripts/generatePrisma.mjs scripts/no-schema-engine.sh ./scripts/
COPY prisma ./prisma
COPY packages/client/package.json ./packages/client/
COPY packages/config/package.json ./packages/config/
COPY packages/db/package.json ./packages/db/
COPY packages/etl/package.json ./packages/etl/
COPY packages/ops/package.json ./packages/ops/
COPY packages/pipeline/package.json ./packages/pipeline/
COPY packages/queue/package.json ./packages/queue/
COPY packages/tracing/package.json ./packages/tracing/
COPY packages/webhook-corpus/package.json ./packages/webhook-corpus/
COPY apps/api/package.json ./apps/api/
COPY apps/bench/package.json ./apps/bench/
COPY apps/demo/package.json ./apps/demo/
COPY apps/worker/package.json ./apps/worker/
RUN npm ci && npm cache clean --force

FROM deps AS build
COPY . .
# The postinstall of `npm ci` generated the client already; generate again from the full tree so
# the image never carries a client older than its schema.
RUN node scripts/generatePrisma.mjs \
 && npm prune --omit=dev \
 && npm cache clean --force

FROM base AS runtime
ENV NODE_ENV=production
# Root-owned and read-only to the app user: a compromised process cannot rewrite its own code.
COPY --from=build /app /app
USER node
EXPOSE 3000
CMD ["npm", "run", "start", "-w", "@tasklane/api"]
