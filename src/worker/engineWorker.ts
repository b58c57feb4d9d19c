/**
 * The engine worker. The CAM engine runs here, not on the page's thread, because tfjs's wasm
 * and webgl kernels run synchronously on the thread that calls them: one Score-CAM batch is
 * hundreds of milliseconds of uninterrupted work, which on the main thread would freeze input
 * and painting. Requests are handled one at a time in arrival order; maps go back as
 * transferred Float32Arrays.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExplainableModel } from '../engine/model/explainable';
import type { FetchProgress } from '../engine/model/fetchModel';
import { ExplanationSession } from '../engine/session';
import { toModelInput, type RgbImage } from '../engine/image';
import { loseWebglContext, selectBackend, type BackendState, type WasmBuild } from './backend';
import { destroyWebgpuDevice } from '../engine/webgpuBackend';
import { GpuRecovery } from './gpuRecovery';
import { build, choosePreprocessing, detailsOf, infoOf, loadModelFromFiles, loadModelFromUrl, loadRegistryModel, type LoadedModel } from './modelManager';
import { startLayerThumbnails, type ThumbContext } from './layerThumbJob';
import { decodeImage } from './decodeImage';
import { handleEvaluation, noteEvaluationMessage, type EvaluationHost } from './evaluationJobs';
import { CONTROL, type BackendChoice, type WorkerReply, type WorkerRequest } from './protocol';
import { HelperEngine } from './helperEngine';
import { TaskQueue, type Task } from './taskQueue';
import { ThetaAheadScheduler } from './thetaAhead';
import { mapFamily, regionKey, runMap, type MapJobHost } from './mapJobs';
import { runLiveFrame } from './liveJob';

interface WorkerScope {
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
}
const scope = self as unknown as WorkerScope;

/** Replies that do not carry computed numbers: they may go out while a lost WebGL context is replaced. */
const SAFE_WHILE_RECOVERING = new Set<WorkerReply['type']>(['backend', 'backendLost', 'backendRecovered', 'modelDetails', 'modelLoaded', 'modelError', 'imageDecoded', 'customModelProgress', 'customModelError', 'modelProgress']);

function post(message: WorkerReply, transfer: Transferable[] = []): void {
  if (!SAFE_WHILE_RECOVERING.has(message.type) && gpuRecovery.lostOrRecovering) {
    // computed on a lost context: readbacks of a lost context are zeros, never a map
    gpuRecovery.onLost();
    return;
  }
  scope.postMessage(message, transfer);
}

let control: Int32Array | null = null;
/** Fallbacks when no SharedArrayBuffer (not cross-origin isolated): read when queued messages arrive. */
let localCancelBelow = 0;
let localLatestGen = 0;

let backendState: BackendState | null = null;
/** The model in use and the files it was built from (to rebuild it on another backend). */
let loaded: LoadedModel | null = null;
let camModel: ExplainableModel | null = null;
let image: { gen: number; rgba: RgbImage } | null = null;
let session: ExplanationSession | null = null;
/** The model input of the current session (the Score-CAM helper builds its own session from it). */
let sessionInput: Float32Array | null = null;
/** A second engine for Score-CAM on the second core (wasm only; see helperEngineWorker.ts). */
let helper: HelperEngine | null = null;
let sessionGen = -1;
/** Counts sessions, so the helper's session key changes with the model or preprocessing too. */
let sessionCounter = 0;
/** Forward passes of sessions already closed, so the counter only grows. */
let passesBefore = 0;
/** Region maps finished in the current session, by `${class}|${variant}|${method}`. */
const regionDone = new Set<string>();

const forwardPasses = () => passesBefore + (session?.forwardPasses ?? 0);

function latestGen(): number {
  return Math.max(localLatestGen, control ? Atomics.load(control, CONTROL.latestGen) : 0);
}
function cancelBelow(): number {
  return Math.max(localCancelBelow, control ? Atomics.load(control, CONTROL.cancelBelow) : 0);
}

function closeSession(): void {
  if (session) {
    passesBefore += session.forwardPasses;
    session.dispose();
  }
  session = null;
  sessionGen = -1;
  regionDone.clear();
}

function disposeModel(): void {
  closeSession();
  camModel?.dispose();
  camModel = null;
}

let wasmBuild: WasmBuild = 'auto';

async function setBackend(choice: BackendChoice): Promise<void> {
  disposeModel();
  gpuRecovery.unwatch();
  backendState = await selectBackend(choice, wasmBuild);
  gpuRecovery.watch();
  post({ type: 'backend', ...backendState });
  syncHelper();
  if (loaded) adopt(await build(loaded.src));
}

/** The helper runs while the engine is on wasm (on webgl the GPU is the bottleneck, on cpu it would only compete). */
function syncHelper(): void {
  const want = backendState?.backend === 'wasm';
  // a new helper gets the model from the adopt() that follows every call of this
  if (want && !helper) {
    helper = HelperEngine.start(wasmBuild);
  } else if (!want && helper) {
    helper.terminate();
    helper = null;
  }
}

// --- a lost WebGL context or WebGPU device: see gpuRecovery.ts ------------------------------
const gpuRecovery = new GpuRecovery({
  backendState: () => backendState,
  setBackendState: (state) => (backendState = state),
  wasmBuild: () => wasmBuild,
  disposeModel: () => {
    try {
      disposeModel();
    } catch {
      camModel = null; // disposing on a lost context may throw; its textures went with the context
    }
  },
  restartQueue: (task) => restartQueue(task),
  syncHelper: () => syncHelper(),
  rebuildModel: async () => {
    if (loaded) adopt(await build(loaded.src));
  },
  modelId: () => loaded?.model.descriptor.id ?? '',
  post: (message) => scope.postMessage(message),
});

/** Swaps in a completely built model; the previous one is freed only now, so a failed load loses nothing. */
function adopt(next: LoadedModel): void {
  disposeModel();
  loaded = next;
  camModel = next.model;
  void helper?.setModel(next.src).catch(() => undefined);
  post({ type: 'modelDetails', details: detailsOf(next) });
  post({ type: 'modelLoaded', info: infoOf(next) });
}

async function loadModel(modelId: string, localBase?: string): Promise<void> {
  adopt(await loadRegistryModel(modelId, localBase, (p) => post({ type: 'modelProgress', modelId, loaded: p.loadedBytes, total: p.totalBytes })));
}

async function setImage(gen: number, blob: Blob, displayMaxSide: number): Promise<void> {
  const decoded = await decodeImage(blob, displayMaxSide);
  if (gen < latestGen()) return;
  closeSession();
  image = { gen, rgba: decoded.rgba };
  const { display } = decoded;
  post(
    { type: 'imageDecoded', gen, width: decoded.width, height: decoded.height, displayWidth: display.width, displayHeight: display.height, displayPixels: display.pixels },
    [display.pixels.buffer],
  );
}

async function startSession(gen: number, layer?: string): Promise<void> {
  if (!camModel) throw new Error('The model is not loaded yet');
  if (!image || image.gen !== gen) throw new Error('The image is no longer current');
  closeSession();
  sessionCounter++;
  const { input } = toModelInput(image.rgba, camModel.inputSize, camModel.descriptor.preprocessing);
  session = await ExplanationSession.create(camModel, input, layer && camModel.candidateLayers().some((l) => l.name === layer) ? layer : undefined);
  sessionGen = gen;
  sessionInput = input;
  post({ type: 'sessionReady', gen, layer: session.layer, predictions: session.topK(5), forwardPasses: forwardPasses(), numTensors: tf.memory().numTensors });
}

function liveSession(gen: number): ExplanationSession {
  if (!session || sessionGen !== gen) throw new Error('The explanation session is not ready');
  return session;
}

/** Requests that compute on the model: pointless on a lost context (the page recomputes after recovery). */
const COMPUTE_REQUESTS = new Set<WorkerRequest['type']>(['session', 'map', 'combine', 'metrics', 'batchEval', 'layerThumbs']);

async function handle(req: WorkerRequest): Promise<void> {
  if (req.type === 'loseWebglContext') {
    if (!loseWebglContext()) post({ type: 'error', request: req.type, message: 'The engine is not running on WebGL, so there is no GPU context to lose.' });
    return;
  }
  if (req.type === 'loseWebgpuDevice') {
    if (!destroyWebgpuDevice()) post({ type: 'error', request: req.type, message: 'The engine is not running on WebGPU, so there is no GPU device to lose.' });
    return;
  }
  if (COMPUTE_REQUESTS.has(req.type) && gpuRecovery.lost) {
    gpuRecovery.onLost();
    if (req.type === 'batchEval') post({ type: 'batchError', job: req.job, message: 'The WebGL context was lost before this evaluation started; run it again.' });
    return;
  }
  if ('gen' in req && req.type !== 'setImage' && req.gen < latestGen()) {
    // stale: the UI moved on
    if (req.type === 'combine') post({ type: 'combineSkipped', gen: req.gen });
    return;
  }
  switch (req.type) {
    case 'init':
      control = req.control ? new Int32Array(req.control) : null;
      wasmBuild = req.wasmBuild ?? 'auto';
      thetaAhead.enabled = req.thetaAhead ?? true;
      await setBackend(req.backend);
      return;
    case 'setBackend':
      await setBackend(req.backend);
      return;
    case 'loadModel':
      try {
        await loadModel(req.modelId, req.localBase);
      } catch (e) {
        post({ type: 'modelError', modelId: req.modelId, message: (e as Error).message });
      }
      return;
    case 'setImage':
      if (req.gen < latestGen()) return;
      await setImage(req.gen, req.blob, req.displayMaxSide);
      return;
    case 'session':
      await startSession(req.gen, req.layer);
      return;
    case 'map':
      await runMap(req, mapHost);
      return;
    case 'combine': {
      const s = liveSession(req.gen);
      const regionMethod = req.regionMethod ?? 'scorecam';
      if (!regionDone.has(regionKey(req.classIndex, req.variant, regionMethod))) {
        // Score-CAM not finished (cancelled or pending)
        post({ type: 'combineSkipped', gen: req.gen });
        return;
      }
      const f = await s.fusion(req.classIndex, { theta: req.theta, tau: 1, variant: req.variant, weights: req.weights }, { variant: req.variant, gradientMethod: req.gradientMethod, method: regionMethod });
      const denoised = Float32Array.from(f.denoised);
      const combined = Float32Array.from(f.combined);
      const region = Float32Array.from(f.region);
      post(
        {
          type: 'combined',
          gen: req.gen,
          stage: {
            classIndex: req.classIndex,
            theta: req.theta,
            variant: req.variant,
            weights: req.weights,
            gradientMethod: req.gradientMethod ?? 'gradcam',
            regionMethod,
            denoised,
            combined,
            region,
            threshold: f.threshold,
            betas: f.betas,
            // step 5 runs on the page; its own warning is added there
            warnings: f.warnings.filter((w) => !w.startsWith('The Fusion-CAM map is constant')),
          },
          forwardPasses: forwardPasses(),
          numTensors: tf.memory().numTensors,
        },
        [denoised.buffer, combined.buffer, region.buffer],
      );
      void thetaAhead.scoreAhead(s, req).catch(() => undefined);
      return;
    }
    case 'cancel':
      return;
    case 'loadModelFiles':
    case 'loadModelUrl':
      try {
        const onProgress = (p: FetchProgress) => post({ type: 'customModelProgress', loaded: p.loadedBytes, total: p.totalBytes });
        adopt(req.type === 'loadModelFiles' ? await loadModelFromFiles(req.files) : await loadModelFromUrl(req.url, onProgress));
      } catch (e) {
        post({ type: 'customModelError', message: (e as Error).message });
      }
      return;
    case 'setPreprocessing':
      if (!loaded) return;
      choosePreprocessing(loaded, req.id);
      // a new modelLoaded makes the page start a new session with the new input
      post({ type: 'modelDetails', details: detailsOf(loaded) });
      post({ type: 'modelLoaded', info: infoOf(loaded) });
      return;
    case 'layerThumbs':
      startLayerThumbnails(req, thumbContext);
      return;
    case 'liveFrame':
      await runLiveFrame(req, { model: () => camModel, post: (m, t) => post(m, t) });
      return;
    case 'evaluationInit':
    case 'evaluationCancel':
    case 'metrics':
    case 'batchEval':
      await handleEvaluation(req, evaluationHost);
      return;
  }
}

const evaluationHost: EvaluationHost = {
  session: (gen) => liveSession(gen),
  model: () => {
    if (!camModel) throw new Error('The model is not loaded yet');
    return { cam: camModel, modelId: camModel.descriptor.id };
  },
  post: (m, t) => post(m, t),
};

const sessionKey = () => `session ${sessionCounter}`;

const thetaAhead = new ThetaAheadScheduler({
  control: () => control,
  helper: () => helper,
  session: () => session,
  sessionInput: () => sessionInput,
  sessionKey,
  latestGen,
  post: (m) => post(m),
});

const mapHost: MapJobHost = {
  liveSession,
  post: (m, t) => post(m, t),
  forwardPasses,
  cancelBelow,
  latestGen,
  helper: () => helper,
  sessionInput: () => sessionInput,
  sessionKey,
  regionDone: (key) => regionDone.add(key),
};

// --- the request queue: one task at a time, in arrival order ---------------------------------
const queue = new TaskQueue();
const schedule = (task: Task) => queue.schedule(task);
const restartQueue = (task: Task) => queue.restart(task);

/** Queues work behind every request already waiting (the layer picker runs one layer per step). */
function enqueue(task: () => Promise<void>): void {
  schedule(() =>
    task().catch((err: unknown) => {
      post({ type: 'error', request: 'layerThumbs', message: err instanceof Error ? err.message : String(err) });
    }),
  );
}

const thumbContext: ThumbContext = {
  model: () => camModel,
  image: () => image,
  latestGen,
  post: (m, t) => post(m, t),
  enqueue,
  remoteThumbnails: (input, layers, classIndex, size) => (helper?.usable ? helper.thumbnails(input, layers, classIndex, size) : null),
};

scope.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const req = e.data;
  // bookkeeping that must not wait behind running work
  if (req.type === 'cancel') localCancelBelow = Math.max(localCancelBelow, req.job + 1);
  if (req.type === 'setImage') localLatestGen = Math.max(localLatestGen, req.gen);
  noteEvaluationMessage(req);
  schedule(() =>
    handle(req).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      post({ type: 'error', gen: 'gen' in req ? req.gen : undefined, request: req.type === 'map' ? mapFamily(req.method) : req.type, message });
    }),
  );
};
