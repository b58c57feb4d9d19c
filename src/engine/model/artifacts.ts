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
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new CamError(`${what} is not a JSON object, so it is not a TF.js model.json`, 'bad-model');
  const j = json as Record<string, unknown>;
  if (j.format === 'graph-model' || (j.modelTopology && typeof j.modelTopology === 'object' && 'node' in (j.modelTopology as object))) {
    throw new CamError(`${what} is a TF.js GraphModel; this needs a LayersModel (convert with tensorflowjs_converter --output_format tfjs_layers_model), or load it as a GraphModel (Score-CAM; Grad-CAM where its ops have gradients)`, 'graph-model');
  }
  if (!j.modelTopology || typeof j.modelTopology !== 'object') throw new CamError(`${what} has no "modelTopology": it is not a TF.js model`, 'bad-model');
  const topo = j.modelTopology as Record<string, unknown>;
  const config = (topo.model_config ?? topo) as Record<string, unknown>;
  if (typeof config.class_name !== 'string' || !config.config) throw new CamError(`${what} has a "modelTopology" that is not a Keras model config: it is not a TF.js LayersModel`, 'bad-model');
  validateManifest(j.weightsManifest, what);
  return j as unknown as ModelJson;
}

/** Checks a weightsManifest's structure and paths (no path may leave the model's folder). */
export function validateManifest(weightsManifest: unknown, what = 'model.json'): ManifestGroup[] {
  if (!Array.isArray(weightsManifest)) throw new CamError(`${what} has no "weightsManifest": it is not a TF.js model with weights`, 'bad-model');
  for (const g of weightsManifest as ManifestGroup[]) {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new CamError(`${what} has a malformed weightsManifest entry`, 'bad-model');
    for (const p of g.paths) if (typeof p !== 'string' || p.includes('..') || /^[a-z]+:/i.test(p) || p.startsWith('/')) throw new CamError(`${what} names a weight file outside its folder: "${String(p)}"`, 'bad-model');
    for (const w of g.weights) {
      if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new CamError(`${what} has a malformed weight spec${w && typeof w.name === 'string' ? ` ("${w.name}")` : ''}`, 'bad-model');
      }
      specBytes(w);
    }
  }
  return weightsManifest as ManifestGroup[];
}

/** Bytes each manifest group's shards must add up to. */
export function expectedGroupBytes(json: ModelJson): number[] {
  return json.weightsManifest.map((g) => g.weights.reduce((a, w) => a + specBytes(w), 0));
}

/**
 * Reads every group's shards (in manifest order) and checks that each group holds exactly the
 * bytes its specs need, so a truncated or wrong shard is named before tfjs sees it.
 */
export async function readWeightGroups(
  manifest: ManifestGroup[],
  readFile: (path: string) => Promise<ArrayBuffer>,
): Promise<ArrayBuffer> {
  const buffers: ArrayBuffer[] = [];
  for (const g of manifest) {
    const expected = g.weights.reduce((a, w) => a + specBytes(w), 0);
    let total = 0;
    for (const p of g.paths) {
      let b: ArrayBuffer;
      try {
        b = await readFile(p);
      } catch (e) {
        if (e instanceof CamError) throw e;
        throw new CamError(`Weight file "${p}" could not be read: ${(e as Error).message}`, 'missing-shard');
      }
      total += b.byteLength;
      buffers.push(b);
    }
    if (total !== expected) {
      const files = g.paths.length === 1 ? `Weight file "${g.paths[0]}" holds` : `Weight files ${g.paths.map((p) => `"${p}"`).join(', ')} hold`;
      const why = total < expected ? 'truncated (an interrupted download?)' : 'larger than described (a shard from another model?)';
      throw new CamError(`${files} ${total} bytes but the manifest's shapes need ${expected}: ${why}`, 'bad-shard');
    }
  }
  return concat(buffers);
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
  const weightData = await readWeightGroups(manifest.weightsManifest, readFile);
  const specs = manifest.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  // tfl.loadLayersModel leaks the half-built model and the decoded weights when the weights do
  // not fit, so we do its two steps ourselves: build (zero-initialised, as tfjs' own fast path
  // does), then load the weights, freeing everything on failure.
  const model = await buildTopology(manifest.modelTopology, what);
  let named: tf.NamedTensorMap | undefined;
  try {
    named = tf.io.decodeWeights(weightData, specs);
    model.loadWeights(named, true);
    return model;
  } catch (e) {
    const mismatch = describeWeightMismatch(model, specs);
    model.dispose();
    throw new CamError(`${what}: ${mismatch ?? `the weights could not be loaded: ${(e as Error).message.split('\n')[0]}`}`, 'weights-mismatch');
  } finally {
    if (named) tf.dispose(Object.values(named));
  }
}

/** Every "*_initializer" in a Keras config replaced by Zeros: the weights are overwritten anyway. */
function zeroInitializers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(zeroInitializers);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = /_initializer$/.test(k) && x && typeof x === 'object' ? { class_name: 'Zeros', config: {} } : zeroInitializers(x);
  return out;
}

async function buildTopology(topology: Record<string, unknown>, what: string): Promise<tfl.LayersModel> {
  const registry = (tf.engine() as unknown as { state: { registeredVariables: Record<string, tf.Variable> } }).state.registeredVariables;
  const existing = new Set(Object.keys(registry));
  try {
    return await tfl.models.modelFromJSON({ modelTopology: zeroInitializers(topology) } as tf.io.ModelJSON);
  } catch (e) {
    // free the weights of the layers built before the failure
    for (const [name, v] of Object.entries(registry)) if (!existing.has(name)) v.dispose();
    throw new CamError(`${what}: the model's topology cannot be built as a LayersModel: ${(e as Error).message.split('\n')[0]}`, 'bad-model');
  }
}

/** Names the first disagreement between the model's weights and the manifest, if any. */
function describeWeightMismatch(model: tfl.LayersModel, specs: tf.io.WeightsManifestEntry[]): string | undefined {
  const byName = new Map(specs.map((w) => [w.name, w.shape]));
  // tfjs also accepts "layer/cell/weight" for "layer/weight" (TF 2.2+ RNN cells)
  for (const w of specs) byName.set(w.name.split('/').slice(0, -2).concat(w.name.split('/').slice(-1)).join('/'), w.shape);
  const fmt = (s: readonly (number | null)[]) => `[${s.join(', ')}]`;
  const known = new Set<string>();
  for (const w of model.weights) {
    known.add(w.originalName);
    const shape = byName.get(w.originalName);
    if (!shape) return `the model needs weight "${w.originalName}" ${fmt(w.shape)} but the manifest does not list it (weights from another model?)`;
    if (shape.length !== w.shape.length || shape.some((d, i) => d !== w.shape[i])) {
      return `the manifest's shapes do not match the model: weight "${w.originalName}" is ${fmt(shape)} in the manifest but the layer needs ${fmt(w.shape)}`;
    }
  }
  const extra = specs.filter((w) => !known.has(w.name) && !known.has(w.name.split('/').slice(0, -2).concat(w.name.split('/').slice(-1)).join('/')));
  if (extra.length) return `the manifest lists ${extra.length} weight(s) the model does not have, e.g. "${extra[0].name}" (weights from another model?)`;
  return undefined;
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
