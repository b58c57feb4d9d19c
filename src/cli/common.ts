/** Shared CLI plumbing: backend, model and image loading, one-line errors (options: options.ts). */
import fs from 'node:fs/promises';
import path from 'node:path';
import { CamError } from '../engine/errors';
import type { ExplainableModel } from '../engine/model/explainable';
import { loadModel } from '../engine/model/loadModel';
import { parseLabels } from '../engine/model/custom';
import { initNodeBackend, type NodeBackend } from '../node/backend';
import { localModelFiles } from '../node/files';
import { UsageError } from './options';

export { UsageError };

export async function initBackend(name: string | undefined): Promise<string> {
  const b = (name ?? 'wasm') as NodeBackend;
  if (b !== 'wasm' && b !== 'cpu') throw new UsageError(`--backend must be wasm or cpu, got "${name}"`);
  return initNodeBackend(b);
}

async function readLabels(source: string): Promise<{ names: string[]; source: string }> {
  let text: string;
  if (/^https?:\/\//i.test(source)) {
    const r = await fetch(source);
    if (!r.ok) throw new CamError(`Could not fetch labels ${source}: HTTP ${r.status}`);
    text = await r.text();
  } else {
    text = await fs.readFile(source, 'utf8').catch(() => {
      throw new CamError(`Labels file not found: ${source}`, 'not-found');
    });
  }
  return { names: parseLabels(text, source), source };
}

export interface ModelArgs {
  model?: string;
  preprocessing?: string;
  labels?: string;
}

/**
 * Loads a LayersModel or GraphModel from a folder, model.json path or URL (the engine's one
 * loader). A registry model (matched by folder name) brings its own preprocessing, labels and
 * default layer; flags override them.
 */
export async function loadCamModel(args: ModelArgs, log: (s: string) => void = () => {}): Promise<ExplainableModel> {
  if (!args.model) throw new UsageError('--model is required (a model folder, model.json path or URL)');
  const labels = args.labels ? await readLabels(args.labels) : undefined;
  const loaded = await loadModel(args.model, { preprocessing: args.preprocessing, labels, localFiles: localModelFiles, log });
  if (loaded.guess) log(`note: assuming preprocessing "${loaded.preprocessing.id}" (${loaded.guess.reason}); pass --preprocessing mobilenet|unit|imagenet|raw to set it`);
  if (loaded.kind === 'graph') log(`note: ${path.basename(path.dirname(loaded.url)) || 'the model'} is a GraphModel; ${loaded.labelsNote}`);
  return loaded.model;
}

const IMAGE_EXT = /\.(jpe?g|png)$/i;

/** Expands files and folders (non-recursive, sorted) into image files. */
export async function listImages(inputs: string[]): Promise<string[]> {
  if (inputs.length === 0) throw new UsageError('--image is required (a file or a folder; repeat --image for more)');
  const out: string[] = [];
  for (const p of inputs) {
    const st = await fs.stat(p).catch(() => null);
    if (!st) throw new CamError(`Image not found: ${p}`, 'not-found');
    if (st.isDirectory()) {
      const names = (await fs.readdir(p)).filter((n) => IMAGE_EXT.test(n)).sort();
      if (names.length === 0) throw new CamError(`No PNG or JPEG images in folder ${p}`, 'not-found');
      out.push(...names.map((n) => path.join(p, n)));
    } else out.push(p);
  }
  return out;
}

export function stemOf(file: string): string {
  return path.basename(file).replace(/\.[^.]+$/, '');
}

/** Prints one clear line for an error; returns the exit code. */
export function reportError(e: unknown, usage?: string): number {
  if (e instanceof UsageError) {
    process.stderr.write(`fusion-cam: ${e.message}${usage ? `\n${usage}` : ''}\n`);
    return 2;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`fusion-cam: error: ${msg.split('\n')[0]}\n`);
  if (process.env.FUSION_CAM_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  return 1;
}

/** A one-line progress indicator on stderr (only on a terminal). */
export function progressLine(label: string): (done: number, total: number) => void {
  const tty = process.stderr.isTTY;
  let last = -1;
  return (done, total) => {
    if (!tty) return;
    const pct = Math.floor((100 * done) / Math.max(1, total));
    if (pct === last) return;
    last = pct;
    const width = 24;
    const fill = Math.round((width * done) / Math.max(1, total));
    process.stderr.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}%${done >= total ? '\n' : ''}`);
  };
}
