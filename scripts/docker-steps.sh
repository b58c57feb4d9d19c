#!/usr/bin/env bash
# The Dockerfile's steps without Docker (no engine in CI): the files `COPY . .` takes (the repo
# minus .dockerignore) into a temp dir, `npm ci --omit=dev` from the local npm cache (--offline),
# then the image's entrypoint (`node /app/bin/fusion-cam.js`) run with --help, one tiny
# evaluate as two shards and their merge — as a non-root user when started as root.
# Usage: scripts/docker-steps.sh [KEEP_DIR]   (FUSION_CAM_SHARED: the shared data, default ../shared)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${FUSION_CAM_SHARED:-$ROOT/../shared}"
WORK="${1:-$(mktemp -d)}"
APP="$WORK/app"
t0=$(date +%s)
step() { echo "docker-steps [$(( $(date +%s) - t0 )) s]: $*"; }

step "COPY . . (minus .dockerignore) → $APP"
mkdir -p "$APP"
excludes=()
while IFS= read -r line; do
  line="${line%%#*}"; line="$(echo "$line" | xargs)"
  [ -n "$line" ] && excludes+=("--exclude=./$line")
done < "$ROOT/.dockerignore"
tar -C "$ROOT" "${excludes[@]}" -cf - . | tar -C "$APP" -xf -
[ ! -e "$APP/node_modules" ] || { echo "docker-steps: node_modules was copied (.dockerignore not applied)" >&2; exit 1; }

cd "$APP"
if node -e 'process.exit(require("./package.json").scripts?.["build:lib"] ? 0 : 1)'; then
  step "npm ci (all dependencies, offline) and npm run build:lib"
  npm ci --offline --no-audit --no-fund --ignore-scripts >/dev/null
  npm run build:lib >/dev/null
  rm -rf node_modules
fi
step "npm ci --omit=dev --offline"
npm ci --omit=dev --offline --no-audit --no-fund >/dev/null
for dev in vitest vite eslint typescript @playwright/test; do
  [ ! -e "node_modules/$dev" ] || { echo "docker-steps: dev dependency $dev was installed" >&2; exit 1; }
done

# USER node (uid 1000) when we can switch users; the app files stay owned by root, read-only to it
as_user=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chmod -R a+rX "$WORK"
  mkdir -p "$WORK/data" && chown 1000:1000 "$WORK/data"
  as_user=(setpriv --reuid=1000 --regid=1000 --clear-groups env HOME=/tmp)
  step "entrypoint runs as uid 1000"
fi
mkdir -p "$WORK/data"
entry() { (cd "$WORK/data" && "${as_user[@]}" node "$APP/bin/fusion-cam.js" "$@"); }

step "entrypoint --help"
entry --help | grep -q '^fusion-cam'
step "entrypoint evaluate (two shards of two images, Grad-CAM) and merge"
mkdir -p "$WORK/data/images"
cp "$SHARED/images/photos/dog.jpg" "$SHARED/images/photos/kite.jpg" "$WORK/data/images/"
# the model comes from the volume too, as in a pod (uid 1000 may not be able to read $SHARED's parents)
cp -r "$SHARED/models/mobilenet_v1_0.25_224" "$WORK/data/model"
chmod -R a+rwX "$WORK/data"
for k in 1 2; do
  entry evaluate --model model --images images --methods gradcam --workers 1 --step 4096 \
    --shard "$k/2" --out "results/part-$k-of-2.csv" >/dev/null 2>"$WORK/evaluate-$k.err" || { cat "$WORK/evaluate-$k.err" >&2; exit 1; }
done
entry merge results/part-1-of-2.csv results/part-2-of-2.csv --out results/results.csv
rows=$(($(wc -l < "$WORK/data/results/results.csv") - 1))
[ "$rows" = 2 ] || { echo "docker-steps: results.csv has $rows rows, expected 2" >&2; exit 1; }
step "done: image steps OK ($rows rows merged) in $WORK"
