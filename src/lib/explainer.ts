/**
 * createExplainer: one model on one backend, explaining images one at a time. The maps are the
 * engine's, computed exactly as the app and the CLI compute them (same session, same caches),
 * at the model's input resolution.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CamError, throwIfAborted } from '../engine/errors';
import { DEFAULT_FUSION_PARAMS, validateFusionParams, type FusionBetas, type FusionParams } from '../engine/fusion';
import { toModelInput } from '../engine/image';
import { computeMap } from '../engine/computeMap';
import { METHOD_IDS as ENGINE_METHOD_IDS, type MethodId as EngineMethodId } from '../engine/methods/registry';
import type { ModelFile } from '../engine/model/custom';
import type { ExplainableModel } from '../engine/model/explainable';
import { loadModel, type ModelKind } from '../engine/model/loadModel';
import { ExplanationSession } from '../engine/session';
import { isNode, startBackend, type BackendName } from './backend';
import { toRgbImage, type ImageInput } from './image';

/** A method name: the gradient family (gradcam, gradcampp, xgradcam, layercam, hirescam), eigencam, the region family (scorecam, groupcam, ablationcam, unioncam) or fusioncam. */
export type MethodId = EngineMethodId;

/** Every method `explain` can compute (the engine's registry). */
export const METHOD_IDS: readonly MethodId[] = ENGINE_METHOD_IDS;

/** Options of {@link createExplainer}. */
export interface ExplainerOptions {
  /** A model folder or model.json path (Node), a model.json URL, or the model's files (e.g. from an `<input type=file>`). LayersModel or GraphModel. */
  model: string | ModelFile[];
  /** TF.js backend. Node: wasm (default) or cpu. Browser: webgl (default), wasm, cpu or webgpu. */
  backend?: BackendName;
  /** Target layer; default: the model's (registry models) or its last spatial layer. */
  layer?: string;
  /** Input preprocessing (mobilenet, unit, imagenet, raw); default: the registry's, else a guess (see `Explainer.preprocessingGuess`). */
  preprocessing?: string;
  /** Browser wasm only: where tfjs-backend-wasm*.wasm are served (a folder URL ending in "/"). */
  wasmPaths?: string;
}

/** Progress of a running method: forward passes done and in all (region methods), 1/1 for the others. */
export interface ExplainProgress {
  method: MethodId;
  done: number;
  total: number;
}

/** Options of {@link Explainer.explain}. */
export interface ExplainOptions {
  /** Maps to compute; default: gradcam, scorecam, fusioncam. */
  methods?: MethodId[];
  /** Class to explain; default: the predicted class. */
  classIndex?: number;
  /** Fusion-CAM denoising percentile, 0 ≤ θ < 100 (default 10). */
  theta?: number;
  /** Fusion-CAM agreement tolerance, τ > 0 (default 1). */
  tau?: number;
  /** reference (the authors' official code, default) or xplain (their later library); the region maps follow it. */
  variant?: FusionParams['variant'];
  /** Cancels the run between forward-pass batches; explain() then rejects with an AbortError. */
  signal?: AbortSignal;
  onProgress?: (p: ExplainProgress) => void;
}

/** A map at the model's input resolution: `data[y * width + x]` in [0, 1] (the CLI's .f32 file). */
export interface CamMap {
  width: number;
  height: number;
  data: Float32Array;
}

/** One of the model's top classes for the image. */
export interface ClassScore {
  index: number;
  label: string;
  probability: number;
  logit: number;
}

/** What {@link Explainer.explain} returns. */
export interface ExplainResult {
  /** The class the maps explain. */
  classIndex: number;
  className: string;
  /** p_c of the unmasked image. */
  probability: number;
  top5: ClassScore[];
  /** The target layer's name. */
  layer: string;
  /** One map per requested method. */
  maps: Partial<Record<MethodId, CamMap>>;
  /** Per method: warnings (an all-zero Grad-CAM, β sums ≤ 0, …); Fusion-CAM also its β values and threshold. */
  details: Partial<Record<MethodId, { warnings: string[]; betas?: FusionBetas; threshold?: number; forwardPasses?: number }>>;
  /** Forward passes this image cost. */
  forwardPasses: number;
}

/** A loaded model on a started backend. */
export interface Explainer {
  /** The backend tfjs runs on. */
  readonly backend: BackendName;
  readonly kind: ModelKind;
  /** [height, width] of the model input (the maps' size). */
  readonly inputSize: [number, number];
  readonly numClasses: number;
  /** The layer explain() uses. */
  readonly layer: string;
  /** Set when the preprocessing was guessed, with the reason. */
  readonly preprocessingGuess: string | null;
  /** The model's candidate target layers (spatial layers before the class scores). */
  layers(): string[];
  explain(image: ImageInput, options?: ExplainOptions): Promise<ExplainResult>;
  /** Frees the model's tensors. The explainer cannot be used afterwards. */
  dispose(): Promise<void>;
}

class ExplainerImpl implements Explainer {
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly backend: BackendName,
    readonly kind: ModelKind,
    private readonly model: ExplainableModel,
    readonly layer: string,
    readonly preprocessingGuess: string | null,
  ) {}

  get inputSize(): [number, number] {
    return this.model.inputSize;
  }

  get numClasses(): number {
    return this.model.numClasses;
  }

  layers(): string[] {
    return this.model.candidateLayers().map((l) => l.name);
  }

  explain(image: ImageInput, options: ExplainOptions = {}): Promise<ExplainResult> {
    // one image at a time: the backend is shared, and runs would only slow each other down
    const run = this.queue.then(() => this.run(image, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(image: ImageInput, o: ExplainOptions): Promise<ExplainResult> {
    if (this.disposed) throw new CamError('This explainer was disposed', 'disposed');
    const methods = o.methods ?? ['gradcam', 'scorecam', 'fusioncam'];
    if (!Array.isArray(methods) || methods.length === 0) throw new CamError('methods must be a non-empty list', 'bad-options');
    for (const m of methods) if (!METHOD_IDS.includes(m)) throw new CamError(`Unknown method "${String(m)}" (known: ${METHOD_IDS.join(', ')})`, 'bad-options');
    const variant = o.variant ?? 'reference';
    const params: FusionParams = { ...DEFAULT_FUSION_PARAMS, theta: o.theta ?? DEFAULT_FUSION_PARAMS.theta, tau: o.tau ?? DEFAULT_FUSION_PARAMS.tau, variant };
    validateFusionParams(params);
    throwIfAborted(o.signal);
    const { input } = toModelInput(toRgbImage(image), this.model.inputSize, this.model.descriptor.preprocessing, 'bilinear');
    const session = await ExplanationSession.create(this.model, input, this.layer);
    try {
      const c = o.classIndex ?? session.predictedClass;
      session.checkClass(c);
      const [height, width] = this.model.inputSize;
      const maps: ExplainResult['maps'] = {};
      const details: ExplainResult['details'] = {};
      for (const m of methods) {
        throwIfAborted(o.signal);
        const r = await computeMap(session, m, {
          classIndex: c,
          variant,
          theta: params.theta,
          tau: params.tau,
          signal: o.signal,
          onProgress: (p) => o.onProgress?.({ method: m, done: p.done, total: p.total }),
        });
        if (r.family === 'fusion') details[m] = { warnings: r.result.warnings, betas: { ...r.result.betas }, threshold: r.result.threshold };
        else if (r.family === 'region') details[m] = { warnings: [], forwardPasses: r.result.forwardPasses };
        else {
          details[m] = { warnings: r.result.warnings };
          o.onProgress?.({ method: m, done: 1, total: 1 });
        }
        maps[m] = { width, height, data: r.map };
      }
      return {
        classIndex: c,
        className: this.model.label(c),
        probability: session.probabilities[c],
        top5: session.topK(5),
        layer: session.layer,
        maps,
        details,
        forwardPasses: session.forwardPasses,
      };
    } finally {
      session.dispose();
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    this.model.dispose();
  }
}

/**
 * Starts the backend, loads the model (LayersModel or GraphModel) and checks the layer.
 *
 * @example
 * const ex = await createExplainer({ model: 'models/mobilenet_v1_0.25_224' });
 * const r = await ex.explain({ width, height, data }, { methods: ['fusioncam'] });
 * r.maps.fusioncam; // { width: 224, height: 224, data: Float32Array }
 * await ex.dispose();
 */
export async function createExplainer(options: ExplainerOptions): Promise<Explainer> {
  if (!options || (typeof options.model !== 'string' && !Array.isArray(options.model))) {
    throw new CamError('createExplainer needs { model: a folder, model.json path or URL, or the model files }', 'bad-options');
  }
  const backend = await startBackend(options.backend, options.wasmPaths);
  const localFiles = isNode() ? (await import('../node/files')).localModelFiles : undefined;
  const loaded = await loadModel(options.model, { preprocessing: options.preprocessing, localFiles });
  try {
    const layer = options.layer ?? loaded.model.defaultLayer();
    loaded.model.split(layer); // a bad layer fails here, with the names of the good ones
    return new ExplainerImpl(backend, loaded.kind, loaded.model, layer, loaded.guess ? `${loaded.guess.preprocessing.id}: ${loaded.guess.reason}` : null);
  } catch (e) {
    loaded.model.dispose();
    throw e;
  }
}

/** Live tensors on the current backend (for leak checks in a user's tests). */
export const liveTensors = (): number => tf.memory().numTensors;
