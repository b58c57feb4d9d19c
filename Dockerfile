# fusion-cam CLI image: Node 20, production dependencies only, runs as the non-root `node` user.
#   docker build -t fusion-cam:0.1.0 .
#   docker run --rm -v "$PWD/../shared:/data:ro" fusion-cam:0.1.0 explain --model /data/models/mobilenet_v1_0.25_224 …
# The CLI runs as the package's bin does today (bin/fusion-cam.js: TypeScript through tsx, a
# production dependency). If the package gains a compiled build (`npm run build:lib`), the build
# stage runs it and its output is copied along with everything else.
# scripts/docker-steps.sh performs these steps outside Docker (CI has no Docker engine).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:lib --if-present \
 && rm -rf node_modules \
 && npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app /app
# uid 1000 (`node` in the base image); the Kubernetes manifests also say runAsNonRoot
USER node
WORKDIR /data
ENTRYPOINT ["node", "/app/bin/fusion-cam.js"]
CMD ["--help"]
