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
import { isAbortError } from '../engine/errors';
import { discardWebglBackend, isWebglContextLost, loseWebglContext, selectBackend, watchWebglContext, type BackendState, type WasmBuild } from './backend';
import { build, choosePreprocessing, detailsOf, infoOf, loadModelFromFiles, loadModelFromUrl, loadRegistryModel, type LoadedModel } from './modelManager';
import { startLayerThumbnails, type ThumbContext } from './layerThumbJob';
import { decodeImage } from './decodeImage';
import { handleEvaluation, noteEvaluationMessage, type EvaluationHost } from './evaluationJobs';
import { CONTROL, type BackendChoice, type WorkerReply, type WorkerRequest } from './protocol';
import { HelperEngine } from './helperEngine';
import { runLiveFrame } from './liveJob';

interface WorkerScope {
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
}
const scope = self as unknown as WorkerScope;

/** Replies that do not carry computed numbers: they may go out while a lost WebGL context is replaced. */
const SAFE_WHILE_RECOVERING = new Set<WorkerReply['type']>(['backend', 'backendLost', 'backendRecovered', 'modelDetails', 'modelLoaded', 'modelError', 'imageDecoded', 'customModelProgress', 'customModelError', 'modelProgress']);

function post(message: WorkerReply, transfer: Transferable[] = []): void {
  if (!SAFE_WHILE_RECOVERING.has(message.type) && (recovering || isWebglContextLost())) {
    // computed on a lost context: readbacks of a lost context are zeros, never a map
    onContextLost();
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
let stopWatchingContext: () => void = () => undefined;

async function setBackend(choice: BackendChoice): Promise<void> {
  disposeModel();
  stopWatchingContext();
  backendState = await selectBackend(choice, wasmBuild);
  stopWatchingContext = watchWebglContext(onContextLost);
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

// --- WebGL context loss -------------------------------------------------------------------
let recovering = false;
let lastLossAt = -Infinity;
/** A second loss this soon after the first means WebGL is not dependable here: fall back to wasm. */
const REPEATED_LOSS_MS = 120_000;

/**
 * The GPU context is gone (driver reset, GPU process crash, a forced WEBGL_lose_context). Every
 * tensor on it is lost, and work waiting on it would wait forever. The queue is restarted on a
 * fresh backend: WebGL re-created on a new context, or wasm after a repeated loss; the model is
 * rebuilt from its files, and the page recomputes the maps when the model is back.
 */
function onContextLost(): void {
  if (recovering) return;
  recovering = true;
  stopWatchingContext();
  const repeated = performance.now() - lastLossAt < REPEATED_LOSS_MS;
  lastLossAt = performance.now();
  post({ type: 'backendLost', message: `The WebGL (GPU) context was lost; ${repeated ? 'it was lost twice in a row, so the engine switches to WebAssembly' : 'restarting WebGL'} and recomputing the maps…` });
  restartQueue(async () => {
    try {
      try {
        disposeModel(); // frees the bookkeeping; the textures went with the context
      } catch {
        camModel = null;
      }
      discardWebglBackend();
      const next = await selectBackend(repeated ? 'wasm' : 'webgl', wasmBuild);
      backendState = { ...next, note: [next.note, repeated ? 'WebGL lost its context twice; using WebAssembly.' : 'WebGL was restarted after a context loss.'].filter(Boolean).join(' ') };
      stopWatchingContext = watchWebglContext(onContextLost);
      syncHelper();
      recovering = false;
      post({ type: 'backend', ...backendState });
      post({
        type: 'backendRecovered',
        backend: backendState.backend,
        message:
          backendState.backend === 'webgl'
            ? 'The WebGL (GPU) context was lost and has been re-created; the maps were recomputed.'
            : `The WebGL (GPU) context was lost; the engine now runs on ${backendState.backend === 'wasm' ? 'WebAssembly' : backendState.backend} and the maps were recomputed.`,
      });
      if (loaded) adopt(await build(loaded.src));
    } catch (e) {
      recovering = false;
      post({ type: 'modelError', modelId: loaded?.model.descriptor.id ?? '', message: `The WebGL context was lost and the engine could not restart: ${(e as Error).message}` });
    }
  });
}

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
const COMPUTE_REQUESTS = new Set<WorkerRequest['type']>(['session', 'gradient', 'region', 'combine', 'metrics', 'batchEval', 'layerThumbs']);

async function handle(req: WorkerRequest): Promise<void> {
  if (req.type === 'loseWebglContext') {
    if (!loseWebglContext()) post({ type: 'error', request: req.type, message: 'The engine is not running on WebGL, so there is no GPU context to lose.' });
    return;
  }
  if (COMPUTE_REQUESTS.has(req.type) && isWebglContextLost()) {
    onContextLost();
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
      thetaAhead = req.thetaAhead ?? true;
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
    case 'gradient': {
      const s = liveSession(req.gen);
      const method = req.method ?? 'gradcam';
      const r = await s.gradientMap(req.classIndex, method, req.variant);
      const map = Float32Array.from(r.map); // the session keeps its own copy cached
      post({ type: 'gradient', gen: req.gen, classIndex: req.classIndex, variant: req.variant, method, map, warnings: r.warnings, forwardPasses: forwardPasses() }, [map.buffer]);
      return;
    }
    case 'region':
      await runRegion(req);
      return;
    case 'combine': {
      const s = liveSession(req.gen);
      const regionMethod = req.regionMethod ?? 'scorecam';
      if (!regionDone.has(`${req.classIndex}|${req.variant}|${regionMethod}`)) {
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
      void scoreThetasAhead(s, req).catch(() => undefined);
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

/**
 * Resolves once the page has seen no input event for `quietMs` (the shared inputCount word):
 * on two cores the helper's background passes would otherwise slow the redraws the user is
 * waiting for. Without shared memory it resolves at once.
 */
async function userIdle(quietMs: number): Promise<void> {
  if (!control) return;
  for (;;) {
    const count = Atomics.load(control, CONTROL.inputCount);
    // a change seen now happened at most since the last look: counted from now (conservative)
    if (count !== inputSeen) {
      inputSeen = count;
      inputChangedAt = performance.now();
    }
    if (performance.now() - inputChangedAt >= quietMs) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
let inputSeen = -1;
let inputChangedAt = 0;

let thetaAhead = true;
/** Bumped by every Fusion-CAM shown: an older run of scoreThetasAhead stops at its next chunk. */
let thetaAheadRun = 0;
/** θ values the helper scores per request: small, so a new image's Score-CAM waits little for it. */
const THETAS_PER_REQUEST = 4;

/**
 * Once a Fusion-CAM is shown, the idle helper scores steps 1–4 for every other θ of the slider
 * (nearest first), and the session is seeded with them: moving θ then costs no forward pass
 * here. Stops when the image, class, variant, weights or methods change.
 */
async function scoreThetasAhead(s: ExplanationSession, req: Extract<WorkerRequest, { type: 'combine' }>): Promise<void> {
  const run = ++thetaAheadRun;
  if (!thetaAhead || !helper?.usable || !sessionInput) return;
  const stale = () => run !== thetaAheadRun || s !== session || req.gen < latestGen();
  const c = req.classIndex;
  const gradientMethod = req.gradientMethod ?? 'gradcam';
  const method = req.regionMethod ?? 'scorecam';
  const params = { variant: req.variant, weights: req.weights };
  const opts = { variant: req.variant, gradientMethod, method };
  const [grad, region, baseline] = await Promise.all([s.gradientMap(c, gradientMethod, req.variant), s.regionMap(c, { method, variant: req.variant }), s.baselineProbability(c)]);
  const maps = { gradient: grad.map, region: region.map, baseline, regionProbability: await s.maskedProbability(c, region.map) };
  // the θ slider's values (Sidebar: 0–99, step 1)
  const sliderThetas = Array.from({ length: 100 }, (_, t) => t);
  const ready = (theta: number) => s.hasFusionStage(c, { ...params, theta }, opts);
  const thetas = sliderThetas.filter((theta) => !ready(theta)).sort((a, b) => Math.abs(a - req.theta) - Math.abs(b - req.theta) || a - b);
  const report = () => post({ type: 'thetasAhead', gen: req.gen, classIndex: c, ready: sliderThetas.filter(ready).length, total: sliderThetas.length });
  report();
  for (let i = 0; i < thetas.length; i += THETAS_PER_REQUEST) {
    await userIdle(300);
    if (stale() || !helper?.usable) return;
    // the user may have reached some of these meanwhile
    const chunk = thetas.slice(i, i + THETAS_PER_REQUEST).filter((theta) => !ready(theta));
    if (chunk.length === 0) continue;
    const answers = await helper.fusionStages({ key: `session ${sessionCounter}`, input: sessionInput, layer: s.layer, classIndex: c, maps, params, thetas: chunk, batchSize: THETAS_PER_REQUEST });
    // kept even if a newer run started: same session, same keys (only two numbers per θ)
    if (s !== session || req.gen < latestGen()) return;
    s.seedFusionStages(c, params, opts, answers);
    report();
  }
}

async function runRegion(req: Extract<WorkerRequest, { type: 'region' }>): Promise<void> {
  const s = liveSession(req.gen);
  const method = req.method ?? 'scorecam';
  const key = `${req.classIndex}|${req.variant}|${method}`;
  if (req.job < cancelBelow()) {
    post({ type: 'regionCancelled', gen: req.gen, job: req.job, classIndex: req.classIndex });
    return;
  }
  const abort = new AbortController();
  const shouldStop = () => req.job < cancelBelow() || req.gen < latestGen();
  let lastPartial = 0;
  const t0 = performance.now();
  try {
    const r = await s.regionMap(req.classIndex, {
      method,
      variant: req.variant,
      batchSize: req.batchSize,
      orderByGradient: true,
      // the second core scores channels from the back of the order (Score-CAM only)
      remoteScores:
        method === 'scorecam' && helper?.usable && sessionInput
          ? helper.scorer({ key: `session ${sessionCounter}`, input: sessionInput, layer: s.layer, classIndex: req.classIndex, variant: req.variant, batchSize: req.batchSize })
          : undefined,
      signal: abort.signal,
      onProgress: (p) => {
        if (shouldStop()) {
          abort.abort();
          return;
        }
        const now = performance.now();
        const wantPartial = p.partial && p.done < p.total && now - lastPartial > 400;
        if (!wantPartial) {
          post({ type: 'regionProgress', gen: req.gen, job: req.job, classIndex: req.classIndex, done: p.done, total: p.total, partial: null });
          return;
        }
        lastPartial = now;
        p.partial!().then(
          (partial) => post({ type: 'regionProgress', gen: req.gen, job: req.job, classIndex: req.classIndex, done: p.done, total: p.total, partial }, [partial.buffer]),
          () => undefined,
        );
      },
    });
    regionDone.add(key);
    const map = Float32Array.from(r.map);
    post({ type: 'region', gen: req.gen, job: req.job, classIndex: req.classIndex, variant: req.variant, method, map, forwardPasses: forwardPasses(), ms: performance.now() - t0, numTensors: tf.memory().numTensors, helperPasses: typeof r.info?.remotePasses === 'number' ? r.info.remotePasses : 0 }, [map.buffer]);
  } catch (e) {
    if (isAbortError(e)) {
      post({ type: 'regionCancelled', gen: req.gen, job: req.job, classIndex: req.classIndex });
      return;
    }
    throw e;
  }
}

// --- the request queue: one task at a time, in arrival order ---------------------------------
type Task = () => Promise<void>;
const queue: Task[] = [];
let pumping = false;
/** Bumped when a lost context strands the running task: its pump stops taking work. */
let queueEpoch = 0;

async function pump(): Promise<void> {
  pumping = true;
  const epoch = queueEpoch;
  while (queue.length > 0 && epoch === queueEpoch) await queue.shift()!();
  if (epoch === queueEpoch) pumping = false;
}

function schedule(task: Task, first = false): void {
  if (first) queue.unshift(task);
  else queue.push(task);
  if (!pumping) void pump();
}

/** Abandons the running task (it may wait forever on a lost context) and runs `task` before the rest. */
function restartQueue(task: Task): void {
  queueEpoch++;
  pumping = false;
  schedule(task, true);
}

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
      post({ type: 'error', gen: 'gen' in req ? req.gen : undefined, request: req.type, message });
    }),
  );
};
