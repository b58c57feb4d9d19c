/**
 * Loading a TF.js LayersModel from model.json + weight shards, with the manifest validated
 * before any weight is read, so a wrong or truncated file gets one clear message.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CamError } from '../errors';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}
interface ManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}
export interface ModelJson {
  format?: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: ManifestGroup[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, int8: 1, int16: 2 };

function specBytes(s: WeightSpec): number {
  const n = s.shape.reduce((a, b) => a * b, 1);
  const dtype = s.quantization?.dtype ?? s.dtype;
  const b = BYTES[dtype];
  if (!b) throw new CamError(`Weight "${s.name}" has unsupported dtype "${dtype}"`, 'bad-model');
  return n * b;
}

/** Throws a CamError unless `json` is a TF.js LayersModel manifest. Returns it typed. */
export function validateModelJson(json: unknown, what = 'model.json'): ModelJson {
  if (!json || typeof json !== 'object') throw new CamError(`${what} is not a JSON object`, 'bad-model');
  const j = json as Record<string, unknown>;
  if (j.format === 'graph-model' || (j.modelTopology && typeof j.modelTopology === 'object' && 'node' in (j.modelTopology as object))) {
    throw new CamError(`${what} is a TF.js GraphModel; CAMs need a LayersModel (convert with tensorflowjs_converter --output_format tfjs_layers_model)`, 'graph-model');
  }
  if (!j.modelTopology || typeof j.modelTopology !== 'object') throw new CamError(`${what} has no "modelTopology": it is not a TF.js model`, 'bad-model');
  if (!Array.isArray(j.weightsManifest)) throw new CamError(`${what} has no "weightsManifest": it is not a TF.js model with weights`, 'bad-model');
  for (const g of j.weightsManifest as ManifestGroup[]) {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new CamError(`${what} has a malformed weightsManifest entry`, 'bad-model');
    for (const p of g.paths) if (typeof p !== 'string' || p.includes('..') || /^[a-z]+:/i.test(p) || p.startsWith('/')) throw new CamError(`${what} names a weight file outside its folder: "${String(p)}"`, 'bad-model');
    for (const w of g.weights) if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape)) throw new CamError(`${what} has a malformed weight spec`, 'bad-model');
  }
  return j as unknown as ModelJson;
}

/** Bytes each manifest group's shards must add up to. */
export function expectedGroupBytes(json: ModelJson): number[] {
  return json.weightsManifest.map((g) => g.weights.reduce((a, w) => a + specBytes(w), 0));
}

/**
 * Builds a LayersModel from a validated manifest and a reader for weight files (by path as
 * written in the manifest). Each group's shards must add up to exactly what its specs need.
 */
export async function loadLayersModelFrom(
  json: unknown,
  readFile: (path: string) => Promise<ArrayBuffer>,
  what = 'model.json',
): Promise<tfl.LayersModel> {
  const manifest = validateModelJson(json, what);
  const expected = expectedGroupBytes(manifest);
  const buffers: ArrayBuffer[] = [];
  for (const [gi, g] of manifest.weightsManifest.entries()) {
    let total = 0;
    for (const p of g.paths) {
      let b: ArrayBuffer;
      try {
        b = await readFile(p);
      } catch (e) {
        throw new CamError(`Weight file "${p}" could not be read: ${(e as Error).message}`, 'missing-shard');
      }
      total += b.byteLength;
      buffers.push(b);
    }
    if (total !== expected[gi]) {
      throw new CamError(`Weight files ${g.paths.join(', ')} hold ${total} bytes but the manifest's shapes need ${expected[gi]} (truncated or mismatched shard)`, 'bad-shard');
    }
  }
  const weightData = concat(buffers);
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: manifest.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: manifest.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData,
    format: manifest.format,
  };
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new CamError(`${what} could not be built as a LayersModel: ${(e as Error).message}`, 'bad-model');
  }
}

function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  const total = buffers.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out.buffer;
}
