/**
 * A user's own model: a set of files (model.json, weight shards, optional labels) becomes a
 * LayersModel plus a ModelDescriptor. The input size and default layer are read from the model;
 * the preprocessing cannot be read from a TF.js model, so it is guessed from the architecture
 * and the guess is reported as such, for the UI to show and let the user change.
 *
 * Names and labels are kept as plain strings: the UI must render them as text, never as HTML.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { CamError } from '../errors';
import { loadLayersModelFrom, validateModelJson, type ModelJson } from './artifacts';
import { CamModel } from './camModel';
import { PREPROCESSING, type ModelDescriptor, type Preprocessing } from './descriptor';

/** A dropped file: a browser `File` fits this shape, and so does a small Node wrapper. */
export interface ModelFile {
  /** File name; may include folder parts ("my_model/model.json", from a folder drop). */
  name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface PreprocessingGuess {
  preprocessing: Preprocessing;
  /** Always true: a TF.js model file does not record its preprocessing. */
  guessed: true;
  /** One sentence saying what the guess is based on. */
  reason: string;
}

export interface CustomModel {
  model: LayersModel;
  camModel: CamModel;
  descriptor: ModelDescriptor;
  /** Present when the preprocessing was guessed (the caller did not choose one). */
  guess?: PreprocessingGuess;
  /** Which file the labels came from, if any. */
  labelsFile?: string;
}

export interface CustomModelOptions {
  /** The user's choice; when absent the preprocessing is guessed. */
  preprocessing?: Preprocessing;
  /** Display name; default: the model's folder name, else the model's own name. */
  name?: string;
  /** Used as the descriptor's url (for the cache key and the export sidecar). */
  url?: string;
}

const baseName = (p: string): string => p.split(/[\\/]/).pop() ?? p;
const dirName = (p: string): string => {
  const parts = p.split(/[\\/]/);
  return parts.length > 1 ? parts[parts.length - 2] : '';
};

/** Parses a labels file: a JSON array of names, a JSON object {index: name}, or one name per line. */
export function parseLabels(text: string, fileName = 'labels'): string[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (!trimmed) throw new CamError(`${fileName} is empty`, 'bad-labels');
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (e) {
      throw new CamError(`${fileName} looks like JSON but does not parse: ${(e as Error).message}`, 'bad-labels');
    }
    if (Array.isArray(json)) {
      return json.map((v, i) => {
        if (typeof v !== 'string' && typeof v !== 'number') throw new CamError(`${fileName}: entry ${i} is not a name (got ${typeof v})`, 'bad-labels');
        return String(v);
      });
    }
    if (json && typeof json === 'object') return labelsFromIndexObject(json as Record<string, unknown>, fileName);
    throw new CamError(`${fileName} is JSON but neither a list of names nor an {index: name} object`, 'bad-labels');
  }
  const lines = trimmed.split(/\r\n|\n|\r/).map((l) => l.trim());
  const blank = lines.findIndex((l) => l === '');
  if (blank >= 0) throw new CamError(`${fileName}: line ${blank + 1} is empty; give one class name per line`, 'bad-labels');
  return lines;
}

/** {"0": "tench", "1": ...} or Keras' imagenet_class_index.json {"0": ["n01440764", "tench"], ...}. */
function labelsFromIndexObject(obj: Record<string, unknown>, fileName: string): string[] {
  const keys = Object.keys(obj);
  const out: string[] = new Array(keys.length);
  for (const k of keys) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= keys.length || String(i) !== k.trim()) {
      throw new CamError(`${fileName}: key "${k}" is not a class index 0–${keys.length - 1}`, 'bad-labels');
    }
    let v = obj[k];
    if (Array.isArray(v)) v = v[v.length - 1];
    if (typeof v !== 'string' && typeof v !== 'number') throw new CamError(`${fileName}: class ${k} has no name`, 'bad-labels');
    out[i] = String(v);
  }
  return out;
}

/** Throws a clear message when the names do not match the model's outputs one to one. */
export function checkLabelCount(labels: string[], numClasses: number, fileName = 'The labels file'): void {
  if (labels.length === numClasses) return;
  let hint = '';
  if (labels.length === numClasses - 1) hint = ' (the model may have an extra "background" class at index 0)';
  else if (labels.length === numClasses + 1) hint = ' (is there a header line or a "background" entry the model does not have?)';
  throw new CamError(`${fileName} has ${labels.length} names but the model has ${numClasses} outputs${hint}`, 'label-count');
}

interface TopologyLayer {
  class_name?: string;
  className?: string;
  name?: string;
  config?: { name?: string; layers?: TopologyLayer[] };
}

/** All layers of a Keras topology (nested Sequential/Model flattened), as [className, name]. */
function topologyLayers(json: ModelJson): [string, string][] {
  const topo = json.modelTopology as { model_config?: TopologyLayer; config?: unknown; class_name?: string };
  const root: TopologyLayer = topo.model_config ?? (topo as TopologyLayer);
  const out: [string, string][] = [];
  const walk = (l: TopologyLayer): void => {
    const cfg = l.config as unknown;
    const layers = Array.isArray(cfg) ? (cfg as TopologyLayer[]) : l.config?.layers;
    if (layers) {
      for (const c of layers) {
        out.push([c.class_name ?? c.className ?? '', c.config?.name ?? c.name ?? '']);
        walk(c);
      }
    }
  };
  walk(root);
  return out;
}

/**
 * Guesses the input preprocessing from the architecture. The rules follow how the common
 * families were trained: Keras' MobileNet/Inception/Xception ("tf" mode) take
 * x/127.5 − 1; Darknet/YOLO models take x/255; a model that starts with its own Rescaling or
 * Normalization layer takes raw pixels. Anything else gets x/255, flagged as a plain guess.
 */
export function guessPreprocessing(modelJson: unknown): PreprocessingGuess {
  const json = validateModelJson(modelJson);
  const layers = topologyLayers(json);
  const classes = layers.map(([c]) => c);
  const names = layers.map(([, n]) => n.toLowerCase()).join(' ');
  const early = classes.slice(0, 4);
  if (early.some((c) => c === 'Rescaling' || c === 'Normalization')) {
    return { preprocessing: PREPROCESSING.raw, guessed: true, reason: 'The model starts with its own Rescaling/Normalization layer, so it is given raw pixel values (0…255).' };
  }
  if (/\b(conv_dw_\d+|conv_pw_\d+|expanded_conv|block_\d+_expand|block_\d+_depthwise|mobilenet|mixed\d+|xception|inception)/.test(names)) {
    return { preprocessing: PREPROCESSING.mobilenet, guessed: true, reason: 'Layer names look like a Keras MobileNet/Inception/Xception, which are trained on RGB/127.5 − 1.' };
  }
  if (/darknet|yolo/.test(names) || classes.filter((c) => c === 'LeakyReLU').length >= 2) {
    return { preprocessing: PREPROCESSING.unit, guessed: true, reason: 'LeakyReLU blocks look like a Darknet/YOLO network, which is trained on RGB/255.' };
  }
  return { preprocessing: PREPROCESSING.unit, guessed: true, reason: 'The architecture is not one we recognise; RGB/255 is only a guess — check how the model was trained.' };
}

const LABEL_NAME = /(label|class|names|synset|categor)/i;

function isModelJson(text: string): unknown {
  try {
    const j = JSON.parse(text) as unknown;
    return j && typeof j === 'object' && !Array.isArray(j) && 'modelTopology' in j ? j : undefined;
  } catch {
    return undefined;
  }
}

/** Why a text is not a TF.js model.json, in a few words. */
export function modelJsonProblem(text: string): string {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return 'the file is not valid JSON (damaged, or another kind of file renamed)';
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) return 'the file is JSON but not an object';
  return 'the JSON has no "modelTopology" (a TF.js model.json has one, next to "weightsManifest")';
}

/**
 * Builds a model and its descriptor from dropped files. Exactly one model.json (a JSON file
 * with "modelTopology") is needed; weight files are matched by the paths in its manifest
 * (full relative path first, then by file name); a labels file is optional.
 */
export async function loadCustomModel(files: ModelFile[], opts: CustomModelOptions = {}): Promise<CustomModel> {
  if (files.length === 0) throw new CamError('No files were given: drop model.json together with its weight files', 'no-files');
  const decoder = new TextDecoder();
  const jsonFiles = files.filter((f) => /\.json$/i.test(f.name));
  const texts = new Map<ModelFile, string>();
  for (const f of [...jsonFiles, ...files.filter((f) => /\.(txt|names|labels)$/i.test(f.name))]) texts.set(f, decoder.decode(await f.arrayBuffer()));
  const models = jsonFiles.map((f) => ({ f, json: isModelJson(texts.get(f)!) })).filter((m) => m.json !== undefined);
  if (models.length === 0) {
    // a file named model.json that is not one: say what is wrong with it, not that it is missing
    const named = jsonFiles.find((f) => baseName(f.name).toLowerCase() === 'model.json');
    if (named) throw new CamError(`${baseName(named.name)} is not a TF.js model: ${modelJsonProblem(texts.get(named)!)}`, 'bad-model');
    const hint = jsonFiles.length ? ` (${jsonFiles.map((f) => baseName(f.name)).join(', ')} ${jsonFiles.length > 1 ? 'are' : 'is'} not a TF.js model.json)` : '';
    throw new CamError(`No model.json among the files${hint}: drop the folder that holds model.json and its weight files`, 'no-model-json');
  }
  if (models.length > 1) throw new CamError(`Several model files were given (${models.map((m) => baseName(m.f.name)).join(', ')}); drop one model at a time`, 'several-models');
  const { f: modelFile, json } = models[0];

  const byPath = new Map(files.map((f) => [f.name.replace(/\\/g, '/'), f]));
  const byBase = new Map<string, ModelFile[]>();
  for (const f of files) byBase.set(baseName(f.name), [...(byBase.get(baseName(f.name)) ?? []), f]);
  const modelDir = modelFile.name.replace(/\\/g, '/').replace(/[^/]*$/, '');
  const readFile = async (p: string): Promise<ArrayBuffer> => {
    const hit = byPath.get(modelDir + p) ?? byPath.get(p) ?? (byBase.get(baseName(p))?.length === 1 ? byBase.get(baseName(p))![0] : undefined);
    if (!hit) throw new Error('it is missing: drop it together with model.json');
    return hit.arrayBuffer();
  };

  const model = await loadLayersModelFrom(json, readFile, baseName(modelFile.name));
  let camModel: CamModel | undefined;
  try {
    const labelCandidates = [...texts.keys()].filter((f) => f !== modelFile && !models.some((m) => m.f === f));
    const labelsFile = labelCandidates.length === 1 ? labelCandidates[0] : labelCandidates.find((f) => LABEL_NAME.test(baseName(f.name)));
    if (labelCandidates.length > 1 && !labelsFile) {
      throw new CamError(`Several possible labels files (${labelCandidates.map((f) => baseName(f.name)).join(', ')}); name the one to use "labels.txt" or "labels.json"`, 'bad-labels');
    }
    const labels = labelsFile ? parseLabels(texts.get(labelsFile)!, baseName(labelsFile.name)) : undefined;

    const guess = opts.preprocessing ? undefined : guessPreprocessing(json);
    const name = opts.name ?? (dirName(modelFile.name) || model.name || 'Custom model');
    const descriptor: ModelDescriptor = {
      id: `custom:${name}`,
      name,
      url: opts.url ?? modelFile.name,
      preprocessing: opts.preprocessing ?? guess!.preprocessing,
    };
    // Built without labels and default layer first (one CamModel: it owns folded weights), so
    // a count mismatch gets our message naming the file; both are filled in from the model.
    camModel = new CamModel(model, descriptor);
    if (labels) checkLabelCount(labels, camModel.numClasses, baseName(labelsFile!.name));
    descriptor.labels = labels;
    descriptor.output = camModel.stopsBeforeSoftmax ? 'probabilities' : 'logits';
    descriptor.defaultLayer = camModel.defaultLayer();
    return { model, camModel, descriptor, guess, labelsFile: labelsFile?.name };
  } catch (e) {
    if (camModel) camModel.dispose();
    else model.dispose();
    if (e instanceof CamError) throw e;
    throw new CamError(`${baseName(modelFile.name)}: ${(e as Error).message}`, 'unsupported-model');
  }
}
