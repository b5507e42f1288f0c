# syntax=docker/dockerfile:1
# The role mapper sidecar. Three stages: compile with the dev dependencies, install the production ones alone,
# and a runtime holding only those two results. test/deploy/production-tree.test.ts repeats these steps
# outside Docker.

# A maintained LTS (Node 24, in active LTS until late 2026 and maintained until April 2028); the code and its CI
# also run on Node 20 and 22 (package.json engines).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script to build (package.json's allowScripts says the same).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json build.mjs ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps zombies; node itself handles the signal and drains.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the service: the image's code cannot be changed by the process running it.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY proto ./proto
# The embedded store's directory, the one place the service may write (a volume in Kubernetes).
RUN mkdir -p /var/lib/rolemapper && chown 1000:1000 /var/lib/rolemapper
ENV ROLEMAPPING_DATA_DIR=/var/lib/rolemapper
# The node user of the base image, by number so Kubernetes can check runAsNonRoot.
USER 1000:1000
# 8092 webhook (loopback by default), 8093 admin HTTP, 50051 gRPC.
EXPOSE 8092 8093 50051
# V8's optimizing compiler allocates its working memory in 32 KB blocks from the C library, on its worker threads:
# freed after each compilation but kept by glibc's per-thread arenas, 10 MB resident after the webhook's warm load.
# From 32 KB up, glibc maps and unmaps each block instead (docs/performance.md).
ENV MALLOC_MMAP_THRESHOLD_=32768
ENTRYPOINT ["/usr/bin/tini", "--"]
# A young generation of at most 2 x 8 MB instead of V8's 2 x 16: 14 MB less resident memory under the webhook's
# load at the same CPU per request (smaller ones promote short-lived objects and cost more; docs/performance.md).
CMD ["node", "--max-semi-space-size=8", "dist/main.js"]
