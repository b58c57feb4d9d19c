/**
 * Downloading a model in the browser (page or worker) with fetch: model.json first, validated
 * before any weight request; then the shards with byte progress, a total size cap and
 * cancellation; https or same-origin URLs only. Every failure is one CamError naming the
 * problem (not found, network/CORS, not a model, too large, truncated shard, weights that do
 * not fit). An optional IndexedDB cache (modelCache.ts) makes the next visit work offline.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { CamError, abortError, throwIfAborted } from '../errors';
import { expectedGroupBytes, loadLayersModelFrom, validateManifest, validateModelJson } from './artifacts';
import type { ModelCache } from './modelCache';

export interface FetchProgress {
  /** Weight bytes received so far. */
  loadedBytes: number;
  /** Weight bytes the manifest describes. */
  totalBytes: number;
  /** True when the weights came from the offline cache. */
  fromCache: boolean;
}

export interface FetchModelOptions {
  onProgress?(p: FetchProgress): void;
  /** Refuse models whose weights exceed this (default 200 MB). */
  maxBytes?: number;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  /** Offline cache; omit for none. */
  cache?: ModelCache | null;
  /** Origin counted as "same origin" (default: the page's or worker's location). */
  origin?: string;
  /** Accept a GraphModel manifest (for GraphCamModel); default false. */
  allowGraphModel?: boolean;
}

export interface FetchedModelFiles {
  url: string;
  json: unknown;
  /** Weight files by manifest path. */
  files: Map<string, ArrayBuffer>;
  fromCache: boolean;
}

export const DEFAULT_MAX_BYTES = 200 * 1024 * 1024;
const PARALLEL_SHARDS = 4;
const MAX_JSON_BYTES = 20 * 1024 * 1024;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;

/** Resolves `url` and enforces the https-or-same-origin rule (plain http only on loopback). */
export function checkModelUrl(url: string, origin = globalThis.location?.origin): URL {
  let u: URL;
  try {
    u = new URL(url, origin);
  } catch {
    throw new CamError(`"${url}" is not a valid URL`, 'bad-url');
  }
  const sameOrigin = !!origin && origin !== 'null' && u.origin === origin;
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  if (u.protocol === 'https:' || sameOrigin || (u.protocol === 'http:' && loopback)) return u;
  throw new CamError(`Models are loaded only over https or from this site; refusing ${u.protocol}//${u.host}`, 'bad-url');
}

async function request(url: string, f: typeof fetch, signal: AbortSignal | undefined, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await f(url, { signal, credentials: 'same-origin' });
  } catch (e) {
    if (signal?.aborted) throw abortError();
    throw new CamError(`Could not reach ${url} (${(e as Error).message}): offline, or the server does not allow cross-origin requests (CORS)`, 'network');
  }
  if (res.status === 404) throw new CamError(`${what} not found (HTTP 404): ${url}`, 'not-found');
  if (!res.ok) throw new CamError(`${what} could not be downloaded: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} from ${url}`, 'http-error');
  return res;
}

/** Reads a body chunk by chunk, reporting bytes (`onBytes` may throw to stop the download). */
async function readBody(res: Response, onBytes: (n: number) => void, signal?: AbortSignal): Promise<ArrayBuffer> {
  if (!res.body) {
    const b = await res.arrayBuffer();
    onBytes(b.byteLength);
    return b;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    for (;;) {
      throwIfAborted(signal);
      const { done, value } = await reader.read();
      if (done) break;
      n += value.byteLength;
      chunks.push(value);
      onBytes(value.byteLength);
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    if (e instanceof CamError) throw e;
    if (signal?.aborted) throw abortError();
    throw new CamError(`The download of ${res.url || 'a weight file'} broke off (${(e as Error).message})`, 'network');
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out.buffer;
}

function parseModelJson(text: string, url: string, allowGraph: boolean): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const looksHtml = /^\s*</.test(text);
    throw new CamError(`${url} is not JSON${looksHtml ? ' (an HTML page?)' : ''}, so it is not a TF.js model.json`, 'bad-model');
  }
  if (allowGraph && json && typeof json === 'object' && (json as { modelTopology?: { node?: unknown } }).modelTopology?.node) {
    validateManifest((json as { weightsManifest?: unknown }).weightsManifest, url);
  } else {
    validateModelJson(json, url);
  }
  return json;
}

/**
 * model.json and its weight files, from the network or (offline, or unchanged model.json) from
 * the cache. Nothing is requested beyond model.json unless it is a valid manifest within the cap.
 */
export async function fetchModelFiles(url: string, opts: FetchModelOptions = {}): Promise<FetchedModelFiles> {
  const f = opts.fetchImpl ?? globalThis.fetch.bind(globalThis);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const full = checkModelUrl(url, opts.origin).href;
  throwIfAborted(opts.signal);
  const cached = await opts.cache?.get(full).catch(() => undefined);

  let text: string;
  try {
    const res = await request(full, f, opts.signal, 'model.json');
    let n = 0;
    const body = await readBody(res, (k) => {
      n += k;
      if (n > MAX_JSON_BYTES) throw new CamError(`${full} is larger than ${mb(MAX_JSON_BYTES)}: not a model.json`, 'bad-model');
    }, opts.signal);
    text = new TextDecoder().decode(body);
  } catch (e) {
    // offline (or the server is down): the cached copy is the model
    if (cached && e instanceof CamError && (e.code === 'network' || e.code === 'http-error')) return fromCache(cached, opts);
    throw e;
  }
  if (cached && cached.jsonText === text) return fromCache(cached, opts);

  const json = parseModelJson(text, full, !!opts.allowGraphModel);
  const manifest = (json as { weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[] }).weightsManifest;
  const total = expectedGroupBytes({ weightsManifest: manifest } as Parameters<typeof expectedGroupBytes>[0]).reduce((a, b) => a + b, 0);
  if (total > maxBytes) throw new CamError(`The model's weights are ${mb(total)}, more than the ${mb(maxBytes)} limit`, 'too-large');

  const paths = manifest.flatMap((g) => g.paths);
  const files = new Map<string, ArrayBuffer>();
  let loaded = 0;
  const report = () => opts.onProgress?.({ loadedBytes: loaded, totalBytes: total, fromCache: false });
  report();
  const tooLarge = () => new CamError(`The weight files are larger than model.json says (${mb(total)}): a shard from another model?`, 'bad-shard');
  // one failed shard stops the others
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  opts.signal?.addEventListener('abort', onAbort);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length && !inner.signal.aborted) {
      const p = paths[next++];
      const res = await request(new URL(p, full).href, f, inner.signal, `Weight file "${p}"`);
      const buf = await readBody(res, (n) => {
        loaded += n;
        if (loaded > total) throw tooLarge();
        report();
      }, inner.signal);
      files.set(p, buf);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL_SHARDS, paths.length) }, () =>
        worker().catch((e: unknown) => {
          inner.abort();
          throw e;
        }),
      ),
    );
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  throwIfAborted(opts.signal);
  if (opts.cache) {
    // a full disk must not break loading: the model simply is not kept
    await opts.cache.put({ url: full, jsonText: text, files: Object.fromEntries(files), bytes: loaded, savedAt: Date.now() }).catch(() => {});
  }
  return { url: full, json, files, fromCache: false };
}

function fromCache(c: { url: string; jsonText: string; files: Record<string, ArrayBuffer>; bytes: number }, opts: FetchModelOptions): FetchedModelFiles {
  const json = JSON.parse(c.jsonText) as unknown;
  opts.onProgress?.({ loadedBytes: c.bytes, totalBytes: c.bytes, fromCache: true });
  return { url: c.url, json, files: new Map(Object.entries(c.files)), fromCache: true };
}

/** A reader over fetched files, for loadLayersModelFrom / loadGraphCamModel. */
export function fileReader(files: Map<string, ArrayBuffer>): (path: string) => Promise<ArrayBuffer> {
  return async (p) => {
    const b = files.get(p);
    if (!b) throw new Error('it was not downloaded');
    return b;
  };
}

/**
 * Downloads and builds a LayersModel. Throws a CamError with one clear line for every failure,
 * or an AbortError when `signal` fires.
 */
export async function fetchLayersModel(url: string, opts: FetchModelOptions = {}): Promise<LayersModel> {
  const got = await fetchModelFiles(url, { ...opts, allowGraphModel: false });
  try {
    return await loadLayersModelFrom(got.json, fileReader(got.files), got.url);
  } catch (e) {
    // a broken cached copy must not stick: drop it so the next try downloads afresh
    if (got.fromCache) await opts.cache?.delete(got.url).catch(() => {});
    throw e;
  }
}
