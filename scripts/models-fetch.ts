/**
 * `npm run models:fetch [-- --out DIR] [--base URL] [--models id,id]`
 *
 * Mirrors the registry's models (model.json + weight shards, and a labels file a descriptor
 * names) into a local folder the app can serve: `<out>/models/<folder>/…` and `<out>/labels/…`,
 * the same layout as ../shared. Default source: Google's public tfjs-models storage (only the
 * models it hosts); `--base` mirrors from another server's models folder (all registry models).
 *
 * Every weight group is checked against its manifest's byte count; files are written through a
 * temporary name and renamed, so an interrupted run never leaves a file that looks complete.
 * Re-running skips groups already complete on disk (idempotent).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expectedGroupBytes, validateManifest, validateModelJson } from '../src/engine/model/artifacts';
import { GOOGLE_TFJS_MODELS, MODEL_REGISTRY, registryEntry } from '../src/engine/model/registry';

export interface FetchModelsOptions {
  out: string;
  /** URL of the folder holding `<folder>/model.json` (ends with '/'). */
  base?: string;
  /** Registry ids; default: every model the source has. */
  models?: string[];
  fetchImpl?: typeof fetch;
  log?: (line: string) => void;
}

export interface FetchModelsReport {
  model: string;
  downloaded: string[];
  skipped: string[];
  bytes: number;
}

async function get(url: string, f: typeof fetch): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await f(url);
  } catch (e) {
    throw new Error(`Could not reach ${url}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}${res.status === 404 ? ' (not found)' : ''}`);
  return res.arrayBuffer();
}

async function sizeOf(file: string): Promise<number | undefined> {
  return fs.stat(file).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
}

async function writeAtomic(file: string, data: ArrayBuffer | string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.part-${process.pid}`;
  await fs.writeFile(tmp, typeof data === 'string' ? data : new Uint8Array(data));
  await fs.rename(tmp, file);
}

export async function fetchModels(opts: FetchModelsOptions): Promise<FetchModelsReport[]> {
  const f = opts.fetchImpl ?? globalThis.fetch;
  const log = opts.log ?? (() => {});
  const base = (opts.base ?? GOOGLE_TFJS_MODELS).replace(/\/?$/, '/');
  const fromGoogle = base === GOOGLE_TFJS_MODELS;
  const ids = opts.models ?? MODEL_REGISTRY.filter((m) => !(fromGoogle && m.localOnly)).map((m) => m.id);
  const entries = ids.map((id) => registryEntry(id));
  const bad = entries.find((e) => e.localOnly && fromGoogle);
  if (bad) throw new Error(`${bad.name} is not hosted by Google's tfjs-models storage; give --base with a server that has it`);
  const outRoot = path.resolve(opts.out);
  const reports: FetchModelsReport[] = [];

  for (const e of entries) {
    const dir = path.join(outRoot, 'models', e.folder);
    const jsonUrl = `${base}${e.folder}/model.json`;
    const report: FetchModelsReport = { model: e.id, downloaded: [], skipped: [], bytes: 0 };
    const jsonText = new TextDecoder().decode(await get(jsonUrl, f));
    let json: unknown;
    try {
      json = JSON.parse(jsonText);
    } catch {
      throw new Error(`${jsonUrl} is not JSON, so it is not a TF.js model.json`);
    }
    const isGraph = !!(json as { modelTopology?: { node?: unknown } })?.modelTopology?.node;
    const groups = isGraph ? validateManifest((json as { weightsManifest: unknown }).weightsManifest, jsonUrl) : validateModelJson(json, jsonUrl).weightsManifest;
    const expected = expectedGroupBytes({ weightsManifest: groups } as Parameters<typeof expectedGroupBytes>[0]);

    for (const [gi, g] of groups.entries()) {
      const onDisk = await Promise.all(g.paths.map((p) => sizeOf(path.join(dir, p))));
      if (onDisk.every((s) => s !== undefined) && onDisk.reduce<number>((a, s) => a + s!, 0) === expected[gi]) {
        report.skipped.push(...g.paths);
        continue;
      }
      // download the whole group to memory first: its byte count is what the manifest checks
      const bufs: ArrayBuffer[] = [];
      for (const p of g.paths) bufs.push(await get(new URL(p, jsonUrl).href, f));
      const total = bufs.reduce((a, b) => a + b.byteLength, 0);
      if (total !== expected[gi]) {
        throw new Error(`${e.id}: weight files ${g.paths.join(', ')} hold ${total} bytes but the manifest needs ${expected[gi]} (truncated or wrong shard on the server)`);
      }
      for (const [i, p] of g.paths.entries()) {
        await writeAtomic(path.join(dir, p), bufs[i]);
        report.downloaded.push(p);
        report.bytes += bufs[i].byteLength;
      }
    }
    // model.json last: its presence with complete groups means the copy is whole
    const jsonFile = path.join(dir, 'model.json');
    const current = await fs.readFile(jsonFile, 'utf8').catch(() => undefined);
    if (current === jsonText) report.skipped.push('model.json');
    else {
      await writeAtomic(jsonFile, jsonText);
      report.downloaded.push('model.json');
    }

    const labelsRel = e.descriptor.labelsUrl;
    if (labelsRel) {
      const target = path.resolve(dir, labelsRel);
      if (!target.startsWith(outRoot + path.sep)) {
        log(`${e.id}: labels file ${labelsRel} would land outside ${outRoot}; not copied`);
      } else if (await sizeOf(target)) {
        report.skipped.push(path.relative(outRoot, target));
      } else {
        const text = new TextDecoder().decode(await get(new URL(labelsRel, jsonUrl).href, f));
        const names = JSON.parse(text) as unknown;
        if (!Array.isArray(names)) throw new Error(`${e.id}: labels file ${labelsRel} is not a JSON list of names`);
        await writeAtomic(target, text);
        report.downloaded.push(path.relative(outRoot, target));
      }
    }
    log(`${e.id}: ${report.downloaded.length} file(s) downloaded (${(report.bytes / 1048576).toFixed(1)} MB), ${report.skipped.length} already complete`);
    reports.push(report);
  }
  return reports;
}

function parseArgs(argv: string[]): FetchModelsOptions {
  const opts: FetchModelsOptions = { out: 'models-cache' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--out') opts.out = value();
    else if (a === '--base') opts.base = value();
    else if (a === '--models') opts.models = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run models:fetch -- [--out DIR] [--base URL] [--models id,id]\nmodels: ' + MODEL_REGISTRY.map((m) => m.id).join(', '));
      process.exit(0);
    } else throw new Error(`Unknown option ${a} (try --help)`);
  }
  return opts;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    await fetchModels({ ...opts, log: (l) => console.log(l) });
    console.log(`Models are in ${path.resolve(opts.out)}/models`);
  } catch (e) {
    console.error(`models:fetch: ${(e as Error).message}`);
    process.exit(1);
  }
}
