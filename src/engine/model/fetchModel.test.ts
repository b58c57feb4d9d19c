/**
 * fetchLayersModel against a fake fetch that serves the shared model files (or breaks them), and
 * the IndexedDB offline cache on fake-indexeddb.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { IDBFactory } from 'fake-indexeddb';
import fs from 'node:fs/promises';
import path from 'node:path';
import { initNodeBackend } from '../../node/backend';
import { loadLayersModelFromPathOrUrl } from '../../node/files';
import { CamError } from '../errors';
import { checkModelUrl, fetchLayersModel, fetchModelFiles, type FetchProgress } from './fetchModel';
import { openModelCache } from './modelCache';

const SHARED = process.env.FUSION_CAM_SHARED ?? path.resolve(__dirname, '../../../../shared');
const BASE = 'https://models.example.test/';
const MODEL_URL = `${BASE}mobilenet_v1_0.25_224/model.json`;

type Route = { status?: number; body?: Uint8Array | string; error?: string };

/** A fetch over an in-memory site; bodies stream in 64 KB chunks, every request is logged. */
function fakeFetch(routes: Map<string, Route>) {
  const requests: string[] = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    requests.push(url);
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const r = routes.get(url);
    if (r?.error) throw new TypeError(r.error);
    if (!r) return new Response('nope', { status: 404, statusText: 'Not Found' });
    const bytes = typeof r.body === 'string' ? new TextEncoder().encode(r.body) : (r.body ?? new Uint8Array());
    let o = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (o >= bytes.length) return c.close();
        c.enqueue(bytes.slice(o, o + 65536));
        o += 65536;
      },
    });
    return new Response(stream, { status: r.status ?? 200 });
  }) as typeof fetch;
  return { f, requests };
}

let site: Map<string, Route>;
let shardBytes = 0;
beforeAll(async () => {
  await initNodeBackend('cpu');
  site = new Map();
  const dir = path.join(SHARED, 'models/mobilenet_v1_0.25_224');
  for (const n of await fs.readdir(dir)) {
    const b = new Uint8Array(await fs.readFile(path.join(dir, n)));
    if (n !== 'model.json') shardBytes += b.byteLength;
    site.set(`${BASE}mobilenet_v1_0.25_224/${n}`, { body: b });
  }
  const graphDir = path.join(SHARED, 'models/mobilenet_v1_0.25_224_graph');
  site.set(`${BASE}graph/model.json`, { body: await fs.readFile(path.join(graphDir, 'model.json'), 'utf8') });
});

const copySite = () => new Map([...site].map(([k, v]) => [k, { ...v }]));
async function failure(p: Promise<unknown>): Promise<CamError> {
  const e = await p.then(
    (m) => {
      (m as { dispose?: () => void })?.dispose?.();
      return undefined;
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CamError);
  return e as CamError;
}

describe('fetchLayersModel', () => {
  it('downloads model.json then every shard with byte progress, giving the same model as the file loader', async () => {
    const { f, requests } = fakeFetch(site);
    const progress: FetchProgress[] = [];
    const m = await fetchLayersModel(MODEL_URL, { fetchImpl: f, onProgress: (p) => progress.push({ ...p }) });
    expect(requests[0]).toBe(MODEL_URL);
    expect(requests.length).toBe(1 + 55);
    expect(progress[0]).toEqual({ loadedBytes: 0, totalBytes: shardBytes, fromCache: false });
    expect(progress[progress.length - 1]).toEqual({ loadedBytes: shardBytes, totalBytes: shardBytes, fromCache: false });
    for (let i = 1; i < progress.length; i++) expect(progress[i].loadedBytes).toBeGreaterThanOrEqual(progress[i - 1].loadedBytes);
    const ref = await loadLayersModelFromPathOrUrl(path.join(SHARED, 'models/mobilenet_v1_0.25_224'));
    const x = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 1);
    const a = tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync());
    const b = tf.tidy(() => (ref.predict(x) as tf.Tensor).dataSync());
    expect(Array.from(a)).toEqual(Array.from(b));
    [m, ref, x].forEach((t) => t.dispose());
  });

  it('404 on model.json: one message, nothing else requested', async () => {
    const { f, requests } = fakeFetch(site);
    const e = await failure(fetchLayersModel(`${BASE}missing/model.json`, { fetchImpl: f }));
    expect(e.message).toBe(`model.json not found (HTTP 404): ${BASE}missing/model.json`);
    expect(requests.length).toBe(1);
  });

  it('a network or CORS failure says so', async () => {
    const s = copySite();
    s.set(MODEL_URL, { error: 'Failed to fetch' });
    const { f } = fakeFetch(s);
    const e = await failure(fetchLayersModel(MODEL_URL, { fetchImpl: f }));
    expect(e.code).toBe('network');
    expect(e.message).toBe(`Could not reach ${MODEL_URL} (Failed to fetch): offline, or the server does not allow cross-origin requests (CORS)`);
  });

  it('a page that is not a model, or a GraphModel, is refused before any weight request', async () => {
    const s = copySite();
    s.set(`${BASE}page/model.json`, { body: '<!doctype html><title>Sign in</title>' });
    s.set(`${BASE}other/model.json`, { body: '{"name": "a package.json?"}' });
    const { f, requests } = fakeFetch(s);
    expect((await failure(fetchLayersModel(`${BASE}page/model.json`, { fetchImpl: f }))).message).toBe(`${BASE}page/model.json is not JSON (an HTML page?), so it is not a TF.js model.json`);
    expect((await failure(fetchLayersModel(`${BASE}other/model.json`, { fetchImpl: f }))).message).toMatch(/has no "modelTopology": it is not a TF\.js model$/);
    expect((await failure(fetchLayersModel(`${BASE}graph/model.json`, { fetchImpl: f }))).code).toBe('graph-model');
    expect(requests).toEqual([`${BASE}page/model.json`, `${BASE}other/model.json`, `${BASE}graph/model.json`]);
    // a GraphModel manifest is accepted where asked for
    const g = await fetchModelFiles(`${BASE}graph/model.json`, { fetchImpl: f, allowGraphModel: true }).then(
      () => 'ok',
      (e: Error) => e.message,
    );
    expect(g).toBe(`Weight file "group1-shard1of1" not found (HTTP 404): ${BASE}graph/group1-shard1of1`);
  });

  it('refuses a model above the size cap before downloading weights', async () => {
    const { f, requests } = fakeFetch(site);
    const e = await failure(fetchLayersModel(MODEL_URL, { fetchImpl: f, maxBytes: 1024 * 1024 }));
    expect(e.message).toBe(`The model's weights are ${(shardBytes / 1048576).toFixed(1)} MB, more than the 1.0 MB limit`);
    expect(requests.length).toBe(1);
  });

  it('a truncated shard, a missing shard and an oversized shard each name the problem', async () => {
    const shardUrl = `${BASE}mobilenet_v1_0.25_224/group3-shard1of1`;
    const truncated = copySite();
    const full = truncated.get(shardUrl)!.body as Uint8Array;
    truncated.set(shardUrl, { body: full.slice(0, full.length - 4) });
    expect((await failure(fetchLayersModel(MODEL_URL, { fetchImpl: fakeFetch(truncated).f }))).message).toBe(
      `Weight file "group3-shard1of1" holds ${full.length - 4} bytes but the manifest's shapes need ${full.length}: truncated (an interrupted download?)`,
    );
    const missing = copySite();
    missing.delete(shardUrl);
    expect((await failure(fetchLayersModel(MODEL_URL, { fetchImpl: fakeFetch(missing).f }))).message).toBe(`Weight file "group3-shard1of1" not found (HTTP 404): ${shardUrl}`);
    const huge = copySite();
    huge.set(shardUrl, { body: new Uint8Array(shardBytes + 10) });
    expect((await failure(fetchLayersModel(MODEL_URL, { fetchImpl: fakeFetch(huge).f }))).message).toMatch(/^The weight files are larger than model\.json says/);
    const mixed = copySite();
    mixed.set(shardUrl, { body: full.slice().reverse() });
    const other = `${BASE}mobilenet_v1_0.25_224/group4-shard1of1`;
    mixed.set(other, { body: mixed.get(`${BASE}mobilenet_v1_0.25_224/group5-shard1of1`)!.body });
    expect((await failure(fetchLayersModel(MODEL_URL, { fetchImpl: fakeFetch(mixed).f }))).message).toMatch(/^Weight file "group4-shard1of1" holds \d+ bytes but the manifest's shapes need \d+: /);
  });

  it('only https, loopback http or same-origin URLs', () => {
    expect(() => checkModelUrl('http://evil.example/model.json', undefined)).toThrow('Models are loaded only over https or from this site; refusing http://evil.example');
    expect(() => checkModelUrl('file:///etc/passwd', undefined)).toThrow(/refusing file:/);
    expect(() => checkModelUrl('javascript:alert(1)', undefined)).toThrow(/refusing javascript:/);
    expect(checkModelUrl('http://127.0.0.1:5173/m/model.json', undefined).href).toBe('http://127.0.0.1:5173/m/model.json');
    expect(checkModelUrl('/models/m/model.json', 'http://intranet.lan').href).toBe('http://intranet.lan/models/m/model.json');
    expect(checkModelUrl('https://storage.googleapis.com/x/model.json', 'http://intranet.lan').protocol).toBe('https:');
    expect(() => checkModelUrl('models/m.json', undefined)).toThrow('"models/m.json" is not a valid URL');
  });

  it('stops when cancelled', async () => {
    const { f, requests } = fakeFetch(site);
    const ac = new AbortController();
    const p = fetchLayersModel(MODEL_URL, {
      fetchImpl: f,
      signal: ac.signal,
      onProgress: (pr) => {
        if (pr.loadedBytes > 0) ac.abort();
      },
    });
    const e = await p.then(() => undefined, (x: Error) => x);
    expect(e?.name).toBe('AbortError');
    expect(requests.length).toBeLessThan(56);
  });
});

describe('offline cache (IndexedDB)', () => {
  let cache: NonNullable<Awaited<ReturnType<typeof openModelCache>>>;
  afterAll(() => {});

  it('is null where IndexedDB does not exist', async () => {
    expect(await openModelCache(undefined)).toBeNull();
  });

  it('stores a downloaded model and loads it offline with no weight request', async () => {
    cache = (await openModelCache(new IDBFactory()))!;
    const first = fakeFetch(site);
    const m1 = await fetchLayersModel(MODEL_URL, { fetchImpl: first.f, cache });
    expect(await cache.list()).toEqual([{ url: MODEL_URL, bytes: shardBytes, savedAt: expect.any(Number) }]);

    const offline = fakeFetch(new Map([[MODEL_URL, { error: 'Failed to fetch' }]]));
    const progress: FetchProgress[] = [];
    const m2 = await fetchLayersModel(MODEL_URL, { fetchImpl: offline.f, cache, onProgress: (p) => progress.push(p) });
    expect(offline.requests).toEqual([MODEL_URL]);
    expect(progress).toEqual([{ loadedBytes: shardBytes, totalBytes: shardBytes, fromCache: true }]);
    const x = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 2);
    const a = tf.tidy(() => (m1.predict(x) as tf.Tensor).dataSync());
    const b = tf.tidy(() => (m2.predict(x) as tf.Tensor).dataSync());
    expect(Array.from(b)).toEqual(Array.from(a));
    [m1, m2, x].forEach((t) => t.dispose());
  });

  it('online with an unchanged model.json: only model.json is requested; changed: everything is downloaded again', async () => {
    const same = fakeFetch(site);
    (await fetchLayersModel(MODEL_URL, { fetchImpl: same.f, cache })).dispose();
    expect(same.requests).toEqual([MODEL_URL]);

    const changed = copySite();
    const json = JSON.parse(new TextDecoder().decode(site.get(MODEL_URL)!.body as Uint8Array));
    json.generatedBy = 'a new version';
    changed.set(MODEL_URL, { body: JSON.stringify(json) });
    const fresh = fakeFetch(changed);
    (await fetchLayersModel(MODEL_URL, { fetchImpl: fresh.f, cache })).dispose();
    expect(fresh.requests.length).toBe(56);
    expect((await cache.get(MODEL_URL))?.jsonText).toContain('a new version');
  });

  it('a 404 while online is not masked by the cache, and a broken cached copy is dropped', async () => {
    const gone = fakeFetch(new Map());
    expect((await failure(fetchLayersModel(MODEL_URL, { fetchImpl: gone.f, cache }))).code).toBe('not-found');
    const entry = (await cache.get(MODEL_URL))!;
    const firstPath = Object.keys(entry.files)[0];
    entry.files[firstPath] = entry.files[firstPath].slice(0, 10);
    await cache.put(entry);
    const offline = fakeFetch(new Map([[MODEL_URL, { error: 'Failed to fetch' }]]));
    expect((await failure(fetchLayersModel(MODEL_URL, { fetchImpl: offline.f, cache }))).code).toBe('bad-shard');
    expect(await cache.get(MODEL_URL)).toBeUndefined();
  });
});
