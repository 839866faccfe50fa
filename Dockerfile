#
# One image for every Tasklane process; docker-compose.yml picks the command, always node itself
# (issue #11: no npm or shell between PID 1 and node, so SIGTERM from `init: true`'s tini reaches
# node and its drain runs):
#   api     node --import tsx apps/api/src/main.ts        (the default CMD)
#   worker  node --import tsx apps/worker/src/main.ts
#   migrate node --import tsx packages/db/src/cli/migrateDeploy.ts   (what `npm run db:migrate` runs)
#   demo    node --import tsx apps/demo/src/main.ts --url http://api:3000 --token <token>
# The apps run TypeScript directly through tsx's loader, so there is no compile step: the runtime
# stage keeps the sources plus production dependencies only, and tsx is a production dependency
# of the root.
#
# Stages: base (Node + the npm the lockfile was made with) → deps (npm ci, all dependencies)
# → build (sources, Prisma client) → prod (from deps' npm cache: production dependencies of the api,
# worker and demo only, plus the sources) → runtime (the Node image, non-root, NODE_ENV=production,
# a copy of prod's /app and nothing else).
# Health checks live in docker-compose.yml, not here.
#
# Base image as a build argument (issue #11): the official image by default; scripts/dockerE2e.sh
# passes a local stand-in built from Debian packages where images cannot be pulled.
ARG NODE_IMAGE=node:24-bookworm-slim

# Node 24 LTS, as package.json "engines" requires (issue #10).
FROM ${NODE_IMAGE} AS base
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
# npm's cache stays in this stage: the prod stage installs from it without the network.
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
RUN npm ci

FROM deps AS build
COPY . .
# The postinstall of `npm ci` generated the client already; generate again from the full tree so
# the image never carries a client older than its schema.
RUN node scripts/generatePrisma.mjs

FROM deps AS prod
# Production dependencies of the processes the image runs (api, worker, the demo; not the bench's
# load and chart libraries) — issue #12 point 7, < 200 MB of node_modules:
# - `--omit=optional` as well as `--omit=dev`: the Prisma CLI and TypeScript are optional peers of
#   @prisma/client and dev dependencies of the root, which the lockfile marks `devOptional`, and
#   npm omits those only when both kinds are omitted (~250 MB). The platform packages of the
#   optional dependencies the runtime does use are put back as the full install made them for this
#   platform: esbuild's binary (tsx needs it), msgpackr's native extension (BullMQ) and
#   @napi-rs/nice (piscina's thread priorities).
# - `--ignore-scripts`: the Prisma client was generated in the build stage (copied below).
# - Prisma's runtime ships a query compiler per database (~60 MB); only PostgreSQL's fast one is
#   loaded by the generated client (packages/db/src/generated/prisma/internal/class.ts).
RUN mkdir -p /tmp/native/@napi-rs \
 && cp -a node_modules/@esbuild node_modules/@msgpackr-extract /tmp/native/ \
 && cp -a node_modules/@napi-rs/nice* /tmp/native/@napi-rs/ \
 && npm ci --omit=dev --omit=optional --ignore-scripts --prefer-offline --include-workspace-root \
      --workspace @tasklane/api --workspace @tasklane/worker --workspace @tasklane/demo \
 && cp -a /tmp/native/. node_modules/ \
 && rm -rf /tmp/native \
 && find node_modules/@prisma/client/runtime \( -name 'query_compiler_*' ! -name 'query_compiler_fast_bg.postgresql.*' \) -delete \
 && find node_modules/@prisma/client/runtime -name '*.map' -delete
COPY . .
COPY --from=build /app/packages/db/src/generated ./packages/db/src/generated
# The bench is not in this image (`npm run bench` runs from a checkout).
RUN rm -rf apps/bench

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Root-owned and read-only to the app user: a compromised process cannot rewrite its own code.
COPY --from=prod /app /app
USER node
EXPOSE 3000
# node is the process tini (compose `init: true`) starts and signals: no npm, no shell.
CMD ["node", "--import", "tsx", "apps/api/src/main.ts"]
