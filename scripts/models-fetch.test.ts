/** models:fetch against a local HTTP server that serves ../shared (never the internet). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { fetchModels } from './models-fetch';

const SHARED = process.env.FUSION_CAM_SHARED ?? path.resolve(__dirname, '../../shared');

let server: http.Server;
let base: string;
const requests: string[] = [];
/** url path → override: a status code, or a byte count to cut the file to */
const broken = new Map<string, { status?: number; cut?: number }>();

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const url = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(url);
    const b = broken.get(url);
    if (b?.status) {
      res.writeHead(b.status).end();
      return;
    }
    const file = path.join(SHARED, path.normalize(url).replace(/^(\.\.[/\\])+/, ''));
    try {
      let data = await fs.readFile(file);
      if (b?.cut !== undefined) data = data.subarray(0, b.cut);
      res.writeHead(200, { 'content-length': data.length }).end(data);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([fs.readFile(a), fs.readFile(b)]);
  return x.equals(y);
}

describe('models:fetch', () => {
  it('mirrors models and labels byte for byte, then skips everything on a second run', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'fcam-fetch-'));
    requests.length = 0;
    const r1 = await fetchModels({ out, base, models: ['mobilenet_v1_0.25_224', 'darknet_tiny'] });
    expect(r1.map((r) => r.model)).toEqual(['mobilenet_v1_0.25_224', 'darknet_tiny']);
    for (const folder of ['mobilenet_v1_0.25_224', 'darknet_tiny']) {
      const names = await fs.readdir(path.join(SHARED, 'models', folder));
      expect((await fs.readdir(path.join(out, 'models', folder))).sort()).toEqual(names.sort());
      for (const n of names) expect(await sameBytes(path.join(out, 'models', folder, n), path.join(SHARED, 'models', folder, n)), n).toBe(true);
    }
    expect(await sameBytes(path.join(out, 'labels/darknet_imagenet1k_names.json'), path.join(SHARED, 'labels/darknet_imagenet1k_names.json'))).toBe(true);
    expect(r1[0].downloaded.length).toBe(56);

    requests.length = 0;
    const r2 = await fetchModels({ out, base, models: ['mobilenet_v1_0.25_224', 'darknet_tiny'] });
    expect(r2.every((r) => r.downloaded.length === 0 && r.bytes === 0)).toBe(true);
    // only the two manifests were asked for
    expect(requests).toEqual(['/models/mobilenet_v1_0.25_224/model.json', '/models/darknet_tiny/model.json']);

    // a damaged local shard is fetched again, and only that one
    await fs.truncate(path.join(out, 'models/darknet_tiny/group7-shard1of1'), 10);
    requests.length = 0;
    const r3 = await fetchModels({ out, base, models: ['darknet_tiny'] });
    expect(r3[0].downloaded).toEqual(['group7-shard1of1']);
    expect(requests).toEqual(['/models/darknet_tiny/model.json', '/models/darknet_tiny/group7-shard1of1']);
    expect(await sameBytes(path.join(out, 'models/darknet_tiny/group7-shard1of1'), path.join(SHARED, 'models/darknet_tiny/group7-shard1of1'))).toBe(true);
    await fs.rm(out, { recursive: true, force: true });
  });

  it('refuses a truncated shard from the server and leaves no file that looks complete', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'fcam-fetch-'));
    broken.set('/models/darknet_tiny/group3-shard1of1', { cut: 100 });
    try {
      await expect(fetchModels({ out, base, models: ['darknet_tiny'] })).rejects.toThrow(/darknet_tiny: weight files group3-shard1of1 hold 100 bytes but the manifest needs \d+ \(truncated or wrong shard on the server\)/);
      await expect(fs.stat(path.join(out, 'models/darknet_tiny/group3-shard1of1'))).rejects.toThrow();
      await expect(fs.stat(path.join(out, 'models/darknet_tiny/model.json'))).rejects.toThrow();
    } finally {
      broken.clear();
      await fs.rm(out, { recursive: true, force: true });
    }
  });

  it('says which model or file is missing, and which ids exist', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'fcam-fetch-'));
    // the 0.50 model is in the registry but not in ../shared
    await expect(fetchModels({ out, base, models: ['mobilenet_v1_0.50_224'] })).rejects.toThrow(/mobilenet_v1_0\.50_224\/model\.json: HTTP 404 \(not found\)/);
    await expect(fetchModels({ out, base, models: ['resnet_9000'] })).rejects.toThrow(/Unknown model "resnet_9000" \(known: mobilenet_v1_0\.25_224/);
    await expect(fetchModels({ out, models: ['darknet_tiny'] })).rejects.toThrow(/not hosted by Google's tfjs-models storage; give --base/);
    await fs.rm(out, { recursive: true, force: true });
  });

  it('runs as `npm run models:fetch` with one clear line on failure', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'fcam-fetch-'));
    const run = promisify(execFile);
    const ok = await run('npx', ['tsx', 'scripts/models-fetch.ts', '--out', out, '--base', base, '--models', 'mobilenet_v1_0.25_224'], { cwd: path.resolve(__dirname, '..') });
    expect(ok.stdout).toMatch(/mobilenet_v1_0\.25_224: 56 file\(s\) downloaded/);
    const bad = await run('npx', ['tsx', 'scripts/models-fetch.ts', '--bogus'], { cwd: path.resolve(__dirname, '..') }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stderr.trim()).toBe('models:fetch: Unknown option --bogus (try --help)');
    await fs.rm(out, { recursive: true, force: true });
  });
});
