# One image for both processes: the API (default command) and a storage-host worker
# (`node --liftoff-only dist/worker.js`, with tgt installed for the tgt driver). Production
# runs the bundles `npm run build` makes: plain JavaScript, no TypeScript loader, no npm
# wrapper. --liftoff-only keeps V8 from optimizing Prisma's WebAssembly query compiler,
# which costs ~100 MB of memory per process and no throughput measured (npm run bench).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps ./apps
COPY packages ./packages
COPY prisma ./prisma
COPY scripts ./scripts
COPY prisma.config.ts tsconfig.json ./
RUN npm ci --ignore-scripts && npx prisma generate && npm run build

FROM node:20-bookworm-slim
# tgt: the target a worker container drives; qemu-utils: qemu-img for qcow2 image imports;
# pgbouncer, haproxy: the pooler and the load balancer of docker-compose.ha.yml, from this image.
RUN apt-get update && apt-get install -y --no-install-recommends tgt libiscsi-bin qemu-utils pgbouncer haproxy && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps ./apps
COPY packages ./packages
RUN npm ci --omit=dev --ignore-scripts
# Migrations: applied by `node dist/migrate.js deploy`, and compared with the database by /readyz.
COPY prisma ./prisma
COPY --from=build /app/dist ./dist
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
EXPOSE 8080
# The API and migrations need no privilege: run as the image's unprivileged node user, on
# files it cannot change. Only tgtd and a tgt worker (tgtd's socket answers root alone)
# override this (docker-compose.yml: user: root).
USER node
CMD ["node", "--liftoff-only", "dist/api.js"]
