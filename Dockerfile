# The server and the worker share this image; docker-compose.yml picks the command.
# Stage 1 builds the SMART apps (Vite is a dev dependency); stage 2 runs with production
# dependencies and the built apps only.
FROM node:24-bookworm-slim AS apps
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY apps/package.json apps/
COPY bots/package.json bots/
COPY seed/package.json seed/
RUN npm ci --no-audit --no-fund
COPY apps apps
RUN npm run build -w apps

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY apps/package.json apps/
COPY bots/package.json bots/
COPY seed/package.json seed/
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
COPY --from=apps /app/apps/dist apps/dist
EXPOSE 8080
# The server workspace's own start: the apps are already built (the root `npm start` builds them first).
CMD ["npm", "run", "start", "-w", "server"]
