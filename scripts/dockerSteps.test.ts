/**
 * The container image's build steps, performed without Docker (CI has no engine):
 * scripts/docker-steps.sh copies what `COPY . .` takes, runs `npm ci --omit=dev --offline` from
 * the npm cache `npm ci` filled, and runs the entrypoint: --help, a two-shard evaluate and merge,
 * as uid 1000 when the tests run as root. ≈ 30 s on the 2-core development machine.
 */
import { describe, expect, it } from 'vitest';
import { runProcess } from '../src/test-utils/runProcess';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('Dockerfile steps outside Docker', () => {
  it('production install, then the entrypoint answers --help and evaluates and merges two shards', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fusion-cam-image-'));
    try {
      const run = await runProcess(path.join(ROOT, 'scripts/docker-steps.sh'), [dir], { timeout: 170_000 });
      const r = { code: run.code, out: run.stdout + run.stderr };
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/image steps OK \(2 rows merged\)/);
      // what the image holds: the CLI and its runtime dependencies, no dev tools, no tests' outputs
      const app = path.join(dir, 'app');
      await expect(fs.stat(path.join(app, 'node_modules/@tensorflow/tfjs-core'))).resolves.toBeTruthy();
      await expect(fs.stat(path.join(app, 'node_modules/vitest'))).rejects.toThrow();
      await expect(fs.stat(path.join(app, 'test-results'))).rejects.toThrow();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
