/**
 * `fusion-cam merge PART.csv… --out results.csv`: joins the parts of a sharded evaluation
 * (`evaluate --shard K/N`) into the CSV and JSON one run over the whole list would have written —
 * the same rows in the same order (only the timing columns differ) — and prints the same summary
 * table. It reads the JSON each part wrote beside its CSV (full precision, the shard record) and
 * refuses, in one line, parts made with other settings or from another image list, a part given
 * twice or missing, an image in two parts, and a part that stopped before its last image.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { csvLine } from '../engine/metrics/summary';
import { parseArgs } from 'node:util';
import { reportError, UsageError } from './common';
import { CSV_COLUMNS, formatSummary, summarize, type ResultRow } from './evaluate';
import { shardPosition, type ShardRecord } from './shard';

export const MERGE_USAGE = `usage: fusion-cam merge PART.csv [PART.csv …] --out results.csv
  Joins the parts of 'fusion-cam evaluate --shard K/N' (each part's CSV, with its JSON beside it)
  into results.csv and results.json, in the order one run would have written them, and prints the
  summary table. Refuses parts made with different settings, missing or repeated parts, and
  parts that did not finish (rerun those with --resume).`;

const OPTIONS = {
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A part that cannot be merged: one line, exit 1. */
export class MergeError extends Error {}

interface Curve {
  image: string;
  method: string;
  deletion: number[];
  insertion: number[];
}

interface PartJson {
  settings: Record<string, unknown> & { methods: string[]; shard?: ShardRecord };
  rows: ResultRow[];
  curves?: Curve[];
  failures?: { image: string; error: string }[];
}

export interface Part {
  file: string;
  json: PartJson;
}

/** Settings that never change a number in the rows (how many threads shared Score-CAM, and the shard itself). */
const NOT_COMPARED = new Set(['shard', 'workers']);

export async function readPart(file: string): Promise<Part> {
  const jsonFile = file.replace(/\.(csv|json)$/i, '') + '.json';
  const text = await fs.readFile(jsonFile, 'utf8').catch(() => {
    throw new MergeError(`${jsonFile} not found (merge reads the JSON that evaluate writes beside each CSV)`);
  });
  let json: PartJson;
  try {
    json = JSON.parse(text) as PartJson;
  } catch {
    throw new MergeError(`${jsonFile} is not valid JSON`);
  }
  if (!json?.settings || !Array.isArray(json.rows) || !Array.isArray(json.settings.methods)) throw new MergeError(`${jsonFile} is not the JSON of a fusion-cam evaluate run`);
  if (!json.settings.shard) throw new MergeError(`${jsonFile} was not made with --shard K/N`);
  return { file: jsonFile, json };
}

const show = (v: unknown) => JSON.stringify(v);

/** Checks the parts fit together and returns the whole run's JSON (settings without the shard). */
export function mergeParts(parts: Part[]): PartJson & { summary: ReturnType<typeof summarize>; mergedFrom: { file: string; shard: string }[] } {
  if (parts.length === 0) throw new MergeError('no parts given');
  const first = parts[0];
  const s0 = first.json.settings;
  const count = s0.shard!.count;
  for (const p of parts.slice(1)) {
    const s = p.json.settings;
    const keys = new Set([...Object.keys(s0), ...Object.keys(s)]);
    for (const k of keys) {
      if (NOT_COMPARED.has(k)) continue;
      if (show(s[k]) !== show(s0[k])) throw new MergeError(`parts made with different settings: ${k} is ${show(s0[k])} in ${first.file} but ${show(s[k])} in ${p.file}`);
    }
    if (s.shard!.count !== count) throw new MergeError(`parts of different splits: ${first.file} is part of ${count}, ${p.file} of ${s.shard!.count}`);
    if (s.shard!.listHash !== s0.shard!.listHash || s.shard!.listSize !== s0.shard!.listSize) {
      throw new MergeError(`parts cut from different image lists (folder, --seed or --limit): ${first.file} and ${p.file}`);
    }
  }
  const byIndex = new Map<number, Part>();
  for (const p of parts) {
    const k = p.json.settings.shard!.index;
    const seen = byIndex.get(k);
    if (seen) throw new MergeError(`part ${k}/${count} given twice: ${seen.file} and ${p.file}`);
    byIndex.set(k, p);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((k) => !byIndex.has(k));
  if (missing.length > 0) throw new MergeError(`missing part${missing.length > 1 ? 's' : ''} ${missing.map((k) => `${k}/${count}`).join(', ')} (got ${[...byIndex.keys()].sort((a, b) => a - b).join(', ')})`);

  const methods = s0.methods;
  const position = new Map<string, number>();
  const owner = new Map<string, string>();
  for (const p of parts) {
    const shard = p.json.settings.shard!;
    shard.images.forEach((img, j) => position.set(img, shardPosition(shard, j)));
    // every image and method of the part has a row, or the image is listed as failed
    const failed = new Set((p.json.failures ?? []).map((f) => f.image));
    for (const r of p.json.rows) {
      const other = owner.get(r.image);
      if (other && other !== p.file) throw new MergeError(`image ${r.image} is in two parts: ${other} and ${p.file}`);
      owner.set(r.image, p.file);
      if (!shard.images.includes(r.image)) throw new MergeError(`${p.file} has rows for ${r.image}, which is not in its part ${shard.index}/${count}`);
    }
    const done = shard.images.filter((img) => failed.has(img) || methods.every((m) => p.json.rows.some((r) => r.image === img && r.method === m)));
    if (done.length < shard.images.length) {
      throw new MergeError(`part ${shard.index}/${count} (${p.file}) did not finish: ${done.length} of ${shard.images.length} images done; rerun it with --resume`);
    }
  }
  if (position.size !== s0.shard!.listSize) throw new MergeError(`the parts hold ${position.size} distinct images, the list had ${s0.shard!.listSize}`);

  const key = (image: string, method: string) => position.get(image)! * (methods.length + 1) + methods.indexOf(method);
  const byKey = <T extends { image: string; method: string }>(a: T, b: T) => key(a.image, a.method) - key(b.image, b.method);
  const rows = parts.flatMap((p) => p.json.rows).sort(byKey);
  const curves = parts.flatMap((p) => p.json.curves ?? []).sort(byKey);
  const failures = parts.flatMap((p) => p.json.failures ?? []).sort((a, b) => position.get(a.image)! - position.get(b.image)!);
  const settings = Object.fromEntries(Object.entries(s0).filter(([k]) => k !== 'shard')) as PartJson['settings'];
  return {
    settings,
    summary: summarize(rows, methods),
    rows,
    curves,
    failures,
    mergedFrom: [...byIndex.entries()].sort(([a], [b]) => a - b).map(([k, p]) => ({ file: p.file, shard: `${k}/${count}` })),
  };
}

export async function runMerge(argv: string[]): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { values: a, positionals } = parsed;
    if (a.help) {
      process.stdout.write(MERGE_USAGE + '\n');
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('give the parts to merge (PART.csv …)');
    if (!a.out) throw new UsageError('--out is required (results.csv)');
    const outCsv = a.out;
    const outJson = outCsv.replace(/\.csv$/i, '') + '.json';
    const parts = await Promise.all(positionals.map(readPart));
    if (parts.some((p) => path.resolve(p.file) === path.resolve(outJson))) throw new MergeError(`--out ${outCsv} would overwrite one of the parts`);
    const merged = mergeParts(parts);
    await fs.mkdir(path.dirname(path.resolve(outCsv)), { recursive: true });
    await fs.writeFile(outCsv, CSV_COLUMNS.join(',') + '\n' + merged.rows.map((r) => csvLine(r, CSV_COLUMNS) + '\n').join(''));
    const { settings, summary, rows, curves, failures, mergedFrom } = merged;
    await fs.writeFile(outJson, JSON.stringify({ settings, summary, rows, curves, failures, mergedFrom }, null, 1));
    const methods = settings.methods;
    process.stderr.write(`merged ${parts.length} parts: ${rows.length / methods.length} images × ${methods.length} methods; rows: ${outCsv}, ${outJson}${failures?.length ? `; ${failures.length} image(s) skipped` : ''}\n`);
    process.stdout.write(formatSummary(summary) + '\n');
    return 0;
  } catch (e) {
    return reportError(e, e instanceof UsageError ? MERGE_USAGE : undefined);
  }
}
