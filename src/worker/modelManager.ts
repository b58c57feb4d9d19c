/**
 * Every way a model reaches the engine worker — the registry (through the offline cache), a URL,
 * dropped files, a LayersModel or a GraphModel — ends as the same thing: an ExplainableModel
 * plus the raw files it was built from, so switching the backend rebuilds it without a download.
 * A new model is built completely before the caller swaps it in, so a failed load leaves the
 * previous model working.
 */
import { CamModel } from '../engine/model/camModel';
import type { ExplainableModel } from '../engine/model/explainable';
import { GraphCamModel, isGraphModelJson, loadGraphCamModel } from '../engine/model/graphCamModel';
import { checkLabelCount, loadCustomModel, parseLabels, type ModelFile } from '../engine/model/custom';
import { fetchModelFiles, fileReader, type FetchProgress } from '../engine/model/fetchModel';
import { openModelCache, type ModelCache } from '../engine/model/modelCache';
import { loadLayersModelFrom } from '../engine/model/artifacts';
import { describeRegistryModel, IMAGENET_LABELS } from '../engine/model/registry';
import { PREPROCESSING, preprocessingById, type ModelDescriptor, type Preprocessing } from '../engine/model/descriptor';
import { CamError } from '../engine/errors';
import { fetchLabels } from './fetchLabels';
import type { LoadedModelInfo } from './protocol';
import type { ModelDetails, ModelFileEntry } from './modelProtocol';

interface Source {
  modelId: string;
  source: ModelDetails['source'];
  kind: ModelDetails['kind'];
  name: string;
  /** model.json, weights and labels, named by their path relative to model.json's folder. */
  files: ModelFile[];
  /** Registry models: the registry's descriptor (labels, default layer, preprocessing). */
  registry?: ModelDescriptor;
  preprocessing: Preprocessing;
  /** The user picked the preprocessing (else it is the registry's or a guess). */
  chosen: boolean;
  guess: { preprocessing: string; reason: string } | null;
  fromCache: boolean;
}

export interface LoadedModel {
  model: ExplainableModel;
  src: Source;
  labelsNote: string;
}

let cache: Promise<ModelCache | null> | null = null;
/** The IndexedDB model cache, opened once (null where IndexedDB is unavailable). */
function modelCache(): Promise<ModelCache | null> {
  cache ??= openModelCache().catch(() => null);
  return cache;
}

const baseName = (p: string): string => p.split(/[\\/]/).pop() ?? p;

function memoryFiles(json: unknown, files: Map<string, ArrayBuffer>): ModelFile[] {
  const text = new TextEncoder().encode(JSON.stringify(json)).buffer;
  return [{ name: 'model.json', arrayBuffer: async () => text }, ...[...files].map(([name, buf]) => ({ name, arrayBuffer: async () => buf }))];
}

/** The folder name a model URL or dropped path points into ("…/my_net/model.json" → "my_net"). */
function folderName(p: string): string {
  const parts = p.replace(/\\/g, '/').replace(/[?#].*$/, '').split('/').filter(Boolean);
  if (parts.length && /\.json$/i.test(parts[parts.length - 1])) parts.pop();
  return parts.pop() ?? '';
}

/** The model's own name in a Keras topology ("resnet_like"), if any. */
function topologyName(json: unknown): string {
  const topo = (json as { modelTopology?: { model_config?: { config?: { name?: unknown } }; config?: { name?: unknown } } }).modelTopology;
  const name = topo?.model_config?.config?.name ?? topo?.config?.name;
  return typeof name === 'string' ? name : '';
}

async function readJson(f: ModelFile): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await f.arrayBuffer())) as unknown;
  } catch {
    return undefined;
  }
}

/** The one model.json among `files`, parsed, or undefined. */
async function findModelJson(files: ModelFile[]): Promise<{ file: ModelFile; json: unknown } | undefined> {
  for (const f of files.filter((x) => /\.json$/i.test(x.name))) {
    const json = await readJson(f);
    if (json && typeof json === 'object' && 'modelTopology' in json) return { file: f, json };
  }
  return undefined;
}

export async function loadRegistryModel(modelId: string, localBase: string | undefined, onProgress: (p: FetchProgress) => void): Promise<LoadedModel> {
  const descriptor = describeRegistryModel(modelId, localBase);
  const url = new URL(descriptor.url, self.location.href).href;
  const got = await fetchModelFiles(url, { cache: await modelCache(), onProgress });
  let labels = descriptor.labels;
  if (!labels && descriptor.labelsUrl) {
    // labels live beside the models folder: <base>/../labels/...
    labels = await fetchLabels(new URL(descriptor.labelsUrl, new URL('..', new URL(localBase ?? descriptor.url, self.location.href))).href);
  }
  const src: Source = {
    modelId,
    source: 'registry',
    kind: 'layers',
    name: descriptor.name,
    files: memoryFiles(got.json, got.files),
    registry: { ...descriptor, labels },
    preprocessing: descriptor.preprocessing,
    chosen: false,
    guess: null,
    fromCache: got.fromCache,
  };
  return buildOrForget(src, url, got.fromCache);
}

/** Builds a downloaded model; a cached copy that does not build is deleted, so the next try downloads afresh. */
async function buildOrForget(src: Source, url: string, fromCache: boolean): Promise<LoadedModel> {
  try {
    return await build(src);
  } catch (e) {
    if (fromCache) await (await modelCache())?.delete(url).catch(() => undefined);
    throw e;
  }
}

export async function loadModelFromUrl(url: string, onProgress: (p: FetchProgress) => void): Promise<LoadedModel> {
  const got = await fetchModelFiles(url, { cache: await modelCache(), onProgress, allowGraphModel: true });
  const name = folderName(new URL(got.url).pathname) || 'Model from URL';
  return buildOrForget(firstSource(memoryFiles(got.json, got.files), name, 'url', got.fromCache, { json: got.json }), got.url, got.fromCache);
}

export async function loadModelFromFiles(entries: ModelFileEntry[]): Promise<LoadedModel> {
  const files: ModelFile[] = entries.map((e) => ({ name: e.path, arrayBuffer: () => e.file.arrayBuffer() }));
  const found = await findModelJson(files);
  const name = (found && (folderName(found.file.name) || topologyName(found.json))) || 'Custom model';
  return build(firstSource(files, name, 'files', false, found));
}

function firstSource(files: ModelFile[], name: string, source: 'files' | 'url', fromCache: boolean, found: { json: unknown } | undefined): Source {
  const graph = !!found && isGraphModelJson(found.json);
  return {
    modelId: `custom:${name}`,
    source,
    kind: graph ? 'graph' : 'layers',
    name,
    files,
    preprocessing: PREPROCESSING.unit,
    chosen: false,
    guess: null,
    fromCache,
  };
}

/** Builds (or rebuilds, e.g. on another backend) the model a source describes. */
export async function build(src: Source): Promise<LoadedModel> {
  if (src.registry) {
    const json = await readJson(src.files[0]);
    const files = new Map<string, ArrayBuffer>();
    for (const f of src.files.slice(1)) files.set(f.name, await f.arrayBuffer());
    const layersModel = await loadLayersModelFrom(json, fileReader(files), src.registry.url);
    const descriptor = { ...src.registry, preprocessing: src.preprocessing };
    try {
      return { model: new CamModel(layersModel, descriptor), src, labelsNote: `${src.registry.labels?.length ?? 0} class names from the registry` };
    } catch (e) {
      layersModel.dispose();
      throw e;
    }
  }
  if (src.kind === 'graph') return buildGraph(src);
  const custom = await loadCustomModel(src.files, { name: src.name, preprocessing: src.chosen ? src.preprocessing : undefined, url: src.source === 'url' ? src.name : undefined });
  if (custom.guess && !src.chosen) {
    src.preprocessing = custom.guess.preprocessing;
    src.guess = { preprocessing: custom.guess.preprocessing.id, reason: custom.guess.reason };
  }
  const n = custom.camModel.numClasses;
  const labelsNote = custom.labelsFile ? `${n} class names from ${baseName(custom.labelsFile)}` : `no labels file: the ${n} classes are numbered`;
  return { model: custom.camModel, src, labelsNote };
}

async function buildGraph(src: Source): Promise<LoadedModel> {
  const found = await findModelJson(src.files);
  if (!found) throw new CamError('No model.json among the files', 'no-model-json');
  const dir = found.file.name.replace(/\\/g, '/').replace(/[^/]*$/, '');
  const byPath = new Map(src.files.map((f) => [f.name.replace(/\\/g, '/'), f]));
  const readFile = async (p: string): Promise<ArrayBuffer> => {
    const hit = byPath.get(dir + p) ?? byPath.get(p) ?? src.files.find((f) => baseName(f.name) === baseName(p));
    if (!hit) throw new Error('it is missing: drop it together with model.json');
    return hit.arrayBuffer();
  };
  const labelsFile = src.files.find((f) => f !== found.file && /\.(txt|names|labels|json)$/i.test(f.name));
  const labels = labelsFile ? parseLabels(new TextDecoder().decode(await labelsFile.arrayBuffer()), baseName(labelsFile.name)) : undefined;
  if (!src.chosen) {
    src.preprocessing = PREPROCESSING.unit;
    src.guess = {
      preprocessing: 'unit',
      reason: 'A GraphModel does not record its preprocessing; TF-Hub image classifiers (the usual source of TF.js GraphModels) take RGB/255 and scale inside the graph. Only a guess.',
    };
  }
  const descriptor: ModelDescriptor = { id: src.modelId, name: src.name, url: src.name, preprocessing: src.preprocessing };
  const model: GraphCamModel = await loadGraphCamModel(found.json, readFile, descriptor, baseName(found.file.name));
  let labelsNote: string;
  try {
    const n = model.numClasses;
    if (labels) {
      checkLabelCount(labels, n, baseName(labelsFile!.name));
      descriptor.labels = labels;
      labelsNote = `${n} class names from ${baseName(labelsFile!.name)}`;
    } else if (n === 1001) {
      descriptor.labels = ['background', ...IMAGENET_LABELS];
      labelsNote = '1001 outputs: ImageNet names with "background" at index 0 (the TF-Hub convention)';
    } else if (n === 1000) {
      descriptor.labels = IMAGENET_LABELS;
      labelsNote = '1000 outputs: assumed to be the ImageNet classes';
    } else {
      labelsNote = `no labels file: the ${n} classes are numbered`;
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, src, labelsNote };
}

export function infoOf(m: LoadedModel): LoadedModelInfo {
  const model = m.model;
  return {
    modelId: m.src.modelId,
    name: m.src.name,
    inputSize: model.inputSize,
    numClasses: model.numClasses,
    layers: model.candidateLayers(),
    defaultLayer: model.defaultLayer(),
    labels: model.descriptor.labels ?? [],
  };
}

export function detailsOf(m: LoadedModel): ModelDetails {
  const gradient = m.model instanceof GraphCamModel ? m.model.gradientSupport(m.model.defaultLayer()) : { ok: true };
  return {
    modelId: m.src.modelId,
    source: m.src.source,
    kind: m.src.kind,
    fromCache: m.src.fromCache,
    preprocessing: m.src.preprocessing.id,
    guess: m.src.chosen ? null : m.src.guess,
    labelsNote: m.labelsNote,
    gradient: { ok: gradient.ok, reason: gradient.reason },
  };
}

/** The user's preprocessing choice; it applies from the next session (no reload). */
export function choosePreprocessing(m: LoadedModel, id: string): void {
  const p = preprocessingById(id);
  m.src.preprocessing = p;
  m.src.chosen = true;
  m.model.descriptor.preprocessing = p;
}
