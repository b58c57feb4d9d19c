/**
 * Loads a LayersModel over HTTP with the engine's validated loader, reporting bytes loaded
 * against the total the manifest promises. The raw files are kept so the model can be rebuilt
 * on another backend without downloading it again.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { expectedGroupBytes, loadLayersModelFrom, validateModelJson } from '../engine/model/artifacts';
import { CamError } from '../engine/errors';

export interface ModelFiles {
  json: unknown;
  files: Map<string, ArrayBuffer>;
  url: string;
}

async function fetchOk(url: string, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { mode: 'cors', credentials: 'omit' });
  } catch (e) {
    throw new CamError(`${what} could not be downloaded from ${url} (network or CORS error: ${(e as Error).message})`, 'network');
  }
  if (!res.ok) throw new CamError(`${what} could not be downloaded from ${url} (HTTP ${res.status})`, 'network');
  return res;
}

/** Reads a response body, calling `onBytes` with each chunk's size. */
async function readBody(res: Response, onBytes: (n: number) => void): Promise<ArrayBuffer> {
  if (!res.body) {
    const b = await res.arrayBuffer();
    onBytes(b.byteLength);
    return b;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    onBytes(value.byteLength);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out.buffer;
}

export async function fetchModelFiles(url: string, onProgress: (loaded: number, total: number) => void): Promise<ModelFiles> {
  const res = await fetchOk(url, 'model.json');
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const html = /^\s*</.test(text) || (res.headers.get('content-type') ?? '').includes('html');
    throw new CamError(
      html ? `model.json could not be found at ${url} (the server answered with a web page; is the model folder right?)` : `model.json at ${url} is not valid JSON`,
      'bad-model',
    );
  }
  const manifest = validateModelJson(json);
  const total = expectedGroupBytes(manifest).reduce((a, b) => a + b, 0);
  let loaded = 0;
  onProgress(0, total);
  const files = new Map<string, ArrayBuffer>();
  const paths = manifest.weightsManifest.flatMap((g) => g.paths);
  // a few shards at a time: fewer round trips, bounded memory churn
  const queue = [...paths];
  const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
      const r = await fetchOk(new URL(p, url).href, `Weight file "${p}"`);
      files.set(
        p,
        await readBody(r, (n) => {
          loaded += n;
          onProgress(loaded, total);
        }),
      );
    }
  });
  await Promise.all(workers);
  return { json, files, url };
}

export function buildModel(m: ModelFiles): Promise<LayersModel> {
  return loadLayersModelFrom(m.json, async (p) => {
    const b = m.files.get(p);
    if (!b) throw new Error('not downloaded');
    return b;
  });
}

export async function fetchLabels(url: string): Promise<string[]> {
  const res = await fetchOk(url, 'The labels file');
  const text = await res.text();
  try {
    const v = JSON.parse(text) as unknown;
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  } catch {
    /* plain text, one label per line */
  }
  return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
}
