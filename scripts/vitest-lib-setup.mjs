/**
 * Vitest global set-up: the CLI tests run bin/fusion-cam.js, which runs the compiled lib/; when
 * a source file is newer than the last build (or there is none), rebuild it once before any
 * test starts, so a test never runs yesterday's CLI.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function newestSource() {
  let t = 0;
  for (const dir of ['src/lib', 'src/cli', 'src/node', 'src/engine']) {
    for (const rel of fs.readdirSync(path.join(root, dir), { recursive: true })) {
      if (!/\.ts$/.test(rel) || /\.test\.ts$/.test(rel)) continue;
      t = Math.max(t, fs.statSync(path.join(root, dir, rel)).mtimeMs);
    }
  }
  for (const f of ['tsconfig.lib.json', 'tsconfig.json', 'scripts/build-lib.mjs']) t = Math.max(t, fs.statSync(path.join(root, f)).mtimeMs);
  return t;
}

export default function setup() {
  const stamp = path.join(root, 'lib', '.build-stamp');
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  if (built >= newestSource()) return;
  process.stdout.write('lib/ is older than the sources: npm run build:lib\n');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-lib.mjs')], { stdio: 'inherit' });
}
