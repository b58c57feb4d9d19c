/**
 * The one model loader: the app's worker, the CLI and the library all turn a model into an
 * ExplainableModel here, whether it is a LayersModel or a GraphModel, and whether it came as a
 * URL, dropped files, or (in Node) a folder or model.json path. `buildModel` builds from files
 * already in hand; `loadModel` first resolves a source to files (fetching a URL, or asking the
 * caller's `localFiles` for a path — the engine itself never touches a file system).
 */
import { CamError } from '../errors';
import { loadLayersModelFrom } from './artifacts';
import { CamModel } from './camModel';
import { checkLabelCount, loadCustomModel, parseLabels, type ModelFile } from './custom';
import { PREPROCESSING, preprocessingById, type ModelDescriptor, type Preprocessing } from './descriptor';
import type { ExplainableModel } from './explainable';
import { fetchModelFiles, type FetchModelOptions } from './fetchModel';
import { isGraphModelJson, loadGraphCamModel } from './graphCamModel';
import { IMAGENET_LABELS, registryEntryForPath } from './registry';

export type ModelKind = 'layers' | 'graph';

export interface BuildModelOptions {
  /** Display name (and, with "custom:", the model id). */
  name: string;
  /** A registry model's descriptor (labels, default layer, preprocessing), labels already resolved. */
  registry?: ModelDescriptor;
  /** The user's preprocessing; without it: the registry's, else a guess (reported in `guess`). */
  preprocessing?: Preprocessing;
  /** Class names the user chose; they replace any the model brings. */
  labels?: { names: string[]; source: string };
  /** The descriptor's url (cache key, export sidecar); default: the model.json file name. */
  url?: string;
}

export interface BuiltModel {
  model: ExplainableModel;
  kind: ModelKind;
  preprocessing: Preprocessing;
  /** Present when the preprocessing was guessed, with the reason. */
  guess: { preprocessing: Preprocessing; reason: string } | null;
  /** Where the class names came from, in one sentence for the UI. */
  labelsNote: string;
}

const baseName = (p: string): string => p.split(/[\\/]/).pop() ?? p;

async function readJson(f: ModelFile): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await f.arrayBuffer())) as unknown;
  } catch {
    return undefined;
  }
}

/** The one model.json among `files` (a JSON object with "modelTopology"), parsed, or undefined. */
export async function findModelJson(files: ModelFile[]): Promise<{ file: ModelFile; json: unknown } | undefined> {
  for (const f of files.filter((x) => /\.json$/i.test(x.name))) {
    const json = await readJson(f);
    if (json && typeof json === 'object' && 'modelTopology' in json) return { file: f, json };
  }
  return undefined;
}

/** Reads a weight path named in model.json from the files: full relative path first, then by file name. */
function filesReader(files: ModelFile[], modelJsonName: string): (p: string) => Promise<ArrayBuffer> {
  const dir = modelJsonName.replace(/\\/g, '/').replace(/[^/]*$/, '');
  const byPath = new Map(files.map((f) => [f.name.replace(/\\/g, '/'), f]));
  return async (p) => {
    const hit = byPath.get(dir + p) ?? byPath.get(p) ?? files.find((f) => baseName(f.name) === baseName(p));
    if (!hit) throw new Error('it is missing: drop it together with model.json');
    return hit.arrayBuffer();
  };
}

function applyLabels(model: ExplainableModel, labels: BuildModelOptions['labels']): string | undefined {
  if (!labels) return undefined;
  checkLabelCount(labels.names, model.numClasses, baseName(labels.source));
  model.descriptor.labels = labels.names;
  return `${labels.names.length} class names from ${baseName(labels.source)}`;
}

/**
 * Builds a model from its files (model.json, weight shards, optionally a labels file). A
 * registry model is a LayersModel with the registry's descriptor; anything else is read as what
 * its model.json says it is, a LayersModel or a GraphModel.
 */
export async function buildModel(files: ModelFile[], opts: BuildModelOptions): Promise<BuiltModel> {
  const found = await findModelJson(files);
  if (opts.registry) {
    if (!found) throw new CamError('No model.json among the files', 'no-model-json');
    const layersModel = await loadLayersModelFrom(found.json, filesReader(files, found.file.name), opts.registry.url);
    const preprocessing = opts.preprocessing ?? opts.registry.preprocessing;
    let model: CamModel;
    try {
      model = new CamModel(layersModel, { ...opts.registry, preprocessing });
    } catch (e) {
      layersModel.dispose();
      throw e instanceof CamError ? e : new CamError((e as Error).message, 'bad-model');
    }
    try {
      const note = applyLabels(model, opts.labels) ?? `${opts.registry.labels?.length ?? 0} class names from the registry`;
      return { model, kind: 'layers', preprocessing, guess: null, labelsNote: note };
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  if (found && isGraphModelJson(found.json)) return buildGraph(files, found, opts);
  const custom = await loadCustomModel(files, { name: opts.name, preprocessing: opts.preprocessing, url: opts.url });
  try {
    const n = custom.camModel.numClasses;
    const note = applyLabels(custom.camModel, opts.labels) ?? (custom.labelsFile ? `${n} class names from ${baseName(custom.labelsFile)}` : `no labels file: the ${n} classes are numbered`);
    const guess = custom.guess ? { preprocessing: custom.guess.preprocessing, reason: custom.guess.reason } : null;
    return { model: custom.camModel, kind: 'layers', preprocessing: custom.descriptor.preprocessing, guess, labelsNote: note };
  } catch (e) {
    custom.camModel.dispose();
    throw e;
  }
}

async function buildGraph(files: ModelFile[], found: { file: ModelFile; json: unknown }, opts: BuildModelOptions): Promise<BuiltModel> {
  const labelsFile = files.find((f) => f !== found.file && /\.(txt|names|labels|json)$/i.test(f.name));
  const fileLabels = labelsFile ? parseLabels(new TextDecoder().decode(await labelsFile.arrayBuffer()), baseName(labelsFile.name)) : undefined;
  const guess = opts.preprocessing
    ? null
    : {
        preprocessing: PREPROCESSING.unit,
        reason: 'A GraphModel does not record its preprocessing; TF-Hub image classifiers (the usual source of TF.js GraphModels) take RGB/255 and scale inside the graph. Only a guess.',
      };
  const preprocessing = opts.preprocessing ?? PREPROCESSING.unit;
  const descriptor: ModelDescriptor = { id: `custom:${opts.name}`, name: opts.name, url: opts.url ?? opts.name, preprocessing };
  const model = await loadGraphCamModel(found.json, filesReader(files, found.file.name), descriptor, baseName(found.file.name));
  let labelsNote: string;
  try {
    const n = model.numClasses;
    const chosen = applyLabels(model, opts.labels);
    if (chosen) labelsNote = chosen;
    else if (fileLabels) {
      checkLabelCount(fileLabels, n, baseName(labelsFile!.name));
      descriptor.labels = fileLabels;
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
  return { model, kind: 'graph', preprocessing, guess, labelsNote };
}

/** A model.json path in a local file system, resolved by the caller (Node: src/node/files.ts). */
export interface LocalModelFiles {
  /** The model.json path ("folder" → "folder/model.json"). */
  modelJson: string;
  /** model.json, its weight shards and a labels.json beside it if there is one. */
  files: ModelFile[];
  /** Reads a labels file relative to model.json's folder (registry models' labelsUrl). */
  readRelative(rel: string): Promise<string>;
}

export interface LoadModelOptions {
  /** Preprocessing id (mobilenet, unit, imagenet, raw) or object; default: the registry's, else a guess. */
  preprocessing?: string | Preprocessing;
  /** Class names: already parsed, or a labels file's text with its name. */
  labels?: { names: string[]; source: string };
  /** How a non-URL string is read (Node); without it only URLs and files are accepted. */
  localFiles?: (path: string) => Promise<LocalModelFiles>;
  /** Passed to fetchModelFiles for URLs (cache, progress, signal, size cap). */
  fetch?: FetchModelOptions;
  /** Notes for the user (an assumed preprocessing, labels not found). */
  log?: (line: string) => void;
}

export interface LoadedModelSource extends BuiltModel {
  /** The model.json URL or path it was read from ('' for dropped files). */
  url: string;
}

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

function folderOf(p: string): string {
  const parts = p.replace(/\\/g, '/').replace(/[?#].*$/, '').split('/').filter(Boolean);
  if (parts.length && /\.json$/i.test(parts[parts.length - 1])) parts.pop();
  return parts.pop() ?? '';
}

function memoryFiles(json: unknown, files: Map<string, ArrayBuffer>): ModelFile[] {
  const text = new TextEncoder().encode(JSON.stringify(json)).buffer;
  return [{ name: 'model.json', arrayBuffer: async () => text }, ...[...files].map(([name, buf]) => ({ name, arrayBuffer: async () => buf }))];
}

/**
 * Loads a model from a URL, a local path (with `localFiles`) or files. A model whose folder is
 * a registry folder (mobilenet_v1_0.75_224, …) brings the registry's preprocessing, labels and
 * default layer; `opts` override them.
 */
export async function loadModel(source: string | ModelFile[], opts: LoadModelOptions = {}): Promise<LoadedModelSource> {
  const log = opts.log ?? (() => {});
  const preprocessing = typeof opts.preprocessing === 'string' ? preprocessingById(opts.preprocessing) : opts.preprocessing;
  if (typeof source !== 'string') {
    const found = await findModelJson(source);
    const name = (found && folderOf(found.file.name)) || 'Custom model';
    return { ...(await buildModel(source, { name, preprocessing, labels: opts.labels })), url: '' };
  }
  if (!source) throw new CamError('No model was given (a model folder, model.json path or URL)', 'no-model-json');
  const entry = registryEntryForPath(source);
  let files: ModelFile[];
  let url: string;
  let readRelative: (rel: string) => Promise<string>;
  if (isUrl(source) || !opts.localFiles) {
    const got = await fetchModelFiles(/\.json([?#].*)?$/i.test(source) ? source : source.replace(/\/?$/, '/model.json'), { ...opts.fetch, allowGraphModel: !entry });
    files = memoryFiles(got.json, got.files);
    url = got.url;
    readRelative = async (rel) => {
      const r = await fetch(new URL(rel, url).href);
      if (!r.ok) throw new CamError(`HTTP ${r.status}`, 'network');
      return r.text();
    };
  } else {
    const local = await opts.localFiles(source);
    files = local.files;
    url = local.modelJson;
    readRelative = local.readRelative;
  }
  const name = entry?.name ?? (folderOf(url) || 'model');
  let registry: ModelDescriptor | undefined;
  if (entry) {
    registry = { id: entry.id, name: entry.name, url, ...entry.descriptor };
    if (!registry.labels && registry.labelsUrl && !opts.labels) {
      const rel = registry.labelsUrl;
      registry.labels = await readRelative(rel).then(
        (text) => parseLabels(text, rel),
        () => {
          log(`note: labels for ${entry.name} not found at ${rel} (relative to ${url}); classes are shown by index`);
          return undefined;
        },
      );
    }
  }
  return { ...(await buildModel(files, { name, registry, preprocessing, labels: opts.labels, url })), url };
}
