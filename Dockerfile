# One image for both processes: the API (default command) and a storage-host worker
# (`npm run worker`, with tgt installed for the tgt driver).
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tgt libiscsi-bin && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps ./apps
COPY packages ./packages
COPY prisma ./prisma
COPY prisma.config.ts tsconfig.json ./
RUN npm ci --omit=dev --ignore-scripts && npx prisma generate
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
EXPOSE 8080
# The API and migrations need no privilege: run as the image's unprivileged node user, on
# files it cannot change. Only tgtd and a tgt worker (tgtd's socket answers root alone)
# override this (docker-compose.yml: user: root).
USER node
CMD ["npm", "run", "api"]
