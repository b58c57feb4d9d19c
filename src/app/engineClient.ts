/**
 * The bridge between the store and the engine worker: it turns user actions and settings
 * changes into worker requests and worker replies into store updates. Every image has a
 * generation number; replies of older generations are ignored, so dropping ten images quickly
 * shows only the last one's results.
 */
import { useAppStore } from './store';
import { EMPTY_RESULTS } from './store/results';
import type { Settings } from './store/settings';
import { queryFromSettings } from './urlState';
import { onEngineRestart, onEvaluationReply } from './evaluationClient';
import { isEvaluationReply } from '../worker/evaluationProtocol';
import { isLiveReply } from '../worker/liveProtocol';
import { CONTROL, type WorkerReply, type WorkerRequest } from '../worker/protocol';
import { send, startWorker, subscribe } from './engineBus';
import { targetClass } from './targetClass';
import type { ContributionWeights } from '../engine/fusion';
import { similarityFusion } from '../engine/maps';
import { attachModelClient } from './modelClient';
import { EMPTY_INPUT } from './store/input';

/** Longest side of the display copy of the photo (the export uses the original). */
export const DISPLAY_MAX_SIDE = 640;

const BATCH_SIZE: Record<string, number> = { wasm: 16, webgl: 8, cpu: 8 };

let started = false;
let control: Int32Array | null = null;
let jobCounter = 0;
let combineInFlight = false;

const get = () => useAppStore.getState();


/** The model folder: build/dev-time VITE_MODEL_BASE, overridden by `?models=<base>`; undefined = Google storage. */
export function modelBase(): string | undefined {
  const q = new URLSearchParams(location.search).get('models');
  const base = q ?? import.meta.env.VITE_MODEL_BASE;
  if (!base) return undefined;
  return base.endsWith('/') ? base : `${base}/`;
}

function weightsOf(s: Settings): ContributionWeights {
  return s.weightsMode === 'manual' ? { mode: 'manual', gradientShare: s.gamma } : { mode: 'auto' };
}


function cancelRegionJobs(): void {
  // everything started so far is cancelled; the next job gets a higher id
  if (control) Atomics.store(control, CONTROL.cancelBelow, jobCounter + 1);
  send({ type: 'cancel', job: jobCounter });
}

function requestMaps(): void {
  const c = targetClass();
  const { input, settings } = get();
  if (c === null || !input.blob) return;
  send({ type: 'map', gen: input.gen, classIndex: c, variant: settings.variant, method: settings.gradientMethod });
  startRegion();
}

export function startRegion(): void {
  const c = targetClass();
  const { input, settings, model, setResults } = get();
  if (c === null) return;
  cancelRegionJobs();
  const job = ++jobCounter;
  setResults({ region: { job, classIndex: c, variant: settings.variant, method: settings.regionMethod, status: 'running', done: 0, total: 0, map: null, startedAt: performance.now() }, regionError: null, stage: null, stageError: null });
  send({ type: 'map', gen: input.gen, job, classIndex: c, variant: settings.variant, method: settings.regionMethod, batchSize: BATCH_SIZE[model.backend ?? 'wasm'] ?? 16 });
}

export function cancelRegion(): void {
  const { results, setResults } = get();
  cancelRegionJobs();
  if (results.region?.status === 'running') setResults({ region: { ...results.region, status: 'cancelled' } });
}

function requestCombine(): void {
  const c = targetClass();
  const { input, settings, results } = get();
  if (c === null || results.region?.status !== 'done' || results.region.classIndex !== c) return;
  // one at a time; the reply handler catches up with settings that moved meanwhile
  if (combineInFlight) return;
  combineInFlight = true;
  send({ type: 'combine', gen: input.gen, classIndex: c, theta: settings.theta, variant: settings.variant, weights: weightsOf(settings), gradientMethod: settings.gradientMethod, regionMethod: results.region.method ?? settings.regionMethod });
}

function startSession(): void {
  const { input, model, settings, setResults } = get();
  if (!input.blob || input.decoding || model.status !== 'ready') return;
  combineInFlight = false;
  cancelRegionJobs();
  setResults({ ...EMPTY_RESULTS, forwardPasses: get().results.forwardPasses });
  send({ type: 'session', gen: input.gen, layer: settings.layer ?? undefined });
}

/** No image: the camera is the input. Replies for the old image are dropped and its queued work skipped. */
export function clearImage(): void {
  const { input, setInput, setResults } = get();
  const gen = input.gen + 1;
  if (control) Atomics.store(control, CONTROL.latestGen, gen);
  cancelRegionJobs();
  combineInFlight = false;
  setInput({ ...EMPTY_INPUT, gen });
  setResults({ ...EMPTY_RESULTS, forwardPasses: get().results.forwardPasses });
}

/** A new image from any source; `keepClass`: a frozen camera frame keeps the class the live map used. */
export function loadImage(blob: Blob, name: string, opts: { keepClass?: boolean } = {}): void {
  const { input, setInput, setResults } = get();
  const gen = input.gen + 1;
  if (control) Atomics.store(control, CONTROL.latestGen, gen);
  cancelRegionJobs();
  combineInFlight = false;
  setInput({ gen, name, blob, width: 0, height: 0, photo: null, decoding: true, error: null, notes: [] });
  setResults({ ...EMPTY_RESULTS, forwardPasses: get().results.forwardPasses });
  // a class pinned by a shared link applies to the first image, not to the ones after it
  if (gen > 1 && !opts.keepClass && get().settings.classIndex !== null) get().setSettings({ classIndex: null });
  send({ type: 'setImage', gen, blob, displayMaxSide: DISPLAY_MAX_SIDE });
}

/** Below this side, a photo holds too little for the model: it is still explained, with a warning. */
export const TINY_SIDE = 32;

export function tinyImageNotes(w: number, h: number): string[] {
  return Math.min(w, h) < TINY_SIDE ? [`This image is tiny (${w}×${h} px): it was stretched to the model's input, so the class and the maps say little.`] : [];
}

function isCurrent(gen: number | undefined): boolean {
  return gen === undefined || gen === get().input.gen;
}

function onReply(msg: WorkerReply): void {
  if (isEvaluationReply(msg)) {
    onEvaluationReply(msg);
    return;
  }
  // the live camera subscribes to the bus for its own replies (src/app/liveCamera.ts)
  if (isLiveReply(msg)) return;
  const s = get();
  switch (msg.type) {
    case 'backend':
      s.setModel({ backend: msg.backend, renderer: msg.renderer, backendNote: msg.note ?? null, wasmThreads: msg.wasmThreads ?? null });
      // an old input error is stale once the next action succeeds (issue 14, defect 6)
      if (s.input.error) s.setInput({ error: null });
      return;
    case 'modelProgress':
      s.setModel({ status: 'loading', loadingId: msg.modelId, loaded: msg.loaded, total: msg.total });
      return;
    case 'modelLoaded':
      s.setModel({ status: 'ready', info: msg.info, error: null, loadingId: null });
      if (s.input.error) s.setInput({ error: null });
      if (s.settings.layer && !msg.info.layers.some((l) => l.name === s.settings.layer)) s.setSettings({ layer: null });
      startSession();
      return;
    case 'modelError':
      s.setModel({ status: 'error', error: msg.message, loadingId: null });
      return;
    case 'imageDecoded': {
      if (!isCurrent(msg.gen)) return;
      s.setInput({
        width: msg.width,
        height: msg.height,
        photo: new ImageData(msg.displayPixels, msg.displayWidth, msg.displayHeight),
        decoding: false,
        notes: [...s.input.notes, ...tinyImageNotes(msg.width, msg.height)],
      });
      startSession();
      return;
    }
    case 'sessionReady':
      if (!isCurrent(msg.gen)) return;
      s.setResults({ layer: msg.layer, predictions: msg.predictions, forwardPasses: msg.forwardPasses, numTensors: msg.numTensors, sessionError: null });
      requestMaps();
      return;
    case 'gradient':
      if (!isCurrent(msg.gen) || msg.classIndex !== targetClass() || msg.variant !== s.settings.variant || (msg.method ?? 'gradcam') !== s.settings.gradientMethod) return;
      s.setResults({ gradient: { classIndex: msg.classIndex, variant: msg.variant, method: msg.method, map: msg.map, warnings: msg.warnings }, gradientError: null, forwardPasses: msg.forwardPasses });
      return;
    case 'regionProgress': {
      const r = s.results.region;
      if (!isCurrent(msg.gen) || !r || r.job !== msg.job || r.status !== 'running') return;
      s.setResults({ region: { ...r, done: msg.done, total: msg.total, map: msg.partial ?? r.map, progressAt: performance.now(), firstProgress: r.firstProgress ?? { done: msg.done, at: performance.now() } } });
      return;
    }
    case 'region': {
      const r = s.results.region;
      if (!isCurrent(msg.gen) || !r || r.job !== msg.job) return;
      s.setResults({ region: { ...r, status: 'done', map: msg.map, done: r.total, ms: msg.ms, helperPasses: msg.helperPasses ?? 0 }, forwardPasses: msg.forwardPasses, numTensors: msg.numTensors });
      requestCombine();
      return;
    }
    case 'regionCancelled': {
      const r = s.results.region;
      if (!isCurrent(msg.gen) || !r || r.job !== msg.job) return;
      s.setResults({ region: { ...r, status: 'cancelled' } });
      return;
    }
    case 'combined': {
      combineInFlight = false;
      if (!isCurrent(msg.gen)) return;
      if (msg.stage.classIndex === targetClass() && msg.stage.variant === s.settings.variant && (msg.stage.gradientMethod ?? 'gradcam') === s.settings.gradientMethod && (msg.stage.regionMethod ?? 'scorecam') === s.settings.regionMethod) {
        s.setResults({ stage: msg.stage, stageError: null, forwardPasses: msg.forwardPasses, numTensors: msg.numTensors });
      }
      // the sliders may have moved while this ran: catch up with the latest settings
      const st = get().settings;
      const stage = get().results.stage;
      const stale = !stage || stage.theta !== st.theta || JSON.stringify(stage.weights) !== JSON.stringify(weightsOf(st)) || stage.variant !== st.variant || (stage.gradientMethod ?? 'gradcam') !== st.gradientMethod;
      if (stale) requestCombine();
      return;
    }
    case 'thetasAhead':
      if (isCurrent(msg.gen) && msg.classIndex === targetClass()) s.setResults({ thetasReady: msg.ready });
      return;
    case 'backendLost':
      // the worker restarts its backend and rebuilds the model; modelLoaded then recomputes everything
      combineInFlight = false;
      cancelRegionJobs();
      s.setUi({ backendAlert: msg.message });
      s.setModel({ status: 'loading', loaded: 0, total: 0 });
      onEngineRestart('The WebGL context was lost while this ran; run it again.');
      return;
    case 'backendRecovered':
      s.setUi({ backendAlert: msg.message });
      return;
    case 'combineSkipped':
      combineInFlight = false;
      return;
    case 'error':
      if (msg.request === 'combine') combineInFlight = false;
      if (!isCurrent(msg.gen)) return;
      reportError(msg.request, msg.message);
      return;
  }
}

function reportError(request: WorkerRequest['type'] | 'gradient' | 'region', message: string): void {
  const s = get();
  switch (request) {
    case 'setImage':
      s.setInput({ decoding: false, error: message });
      return;
    case 'session':
      s.setResults({ sessionError: message });
      return;
    case 'gradient':
      s.setResults({ gradientError: message });
      return;
    case 'region':
      s.setResults({ regionError: message, region: s.results.region ? { ...s.results.region, status: 'error' } : null });
      return;
    case 'combine':
      combineInFlight = false;
      s.setResults({ stageError: message });
      return;
    case 'init':
    case 'setBackend':
      s.setModel({ status: 'error', error: message });
      return;
    default:
      s.setUi({ notice: message });
  }
}

function onSettingsChange(now: Settings, before: Settings): void {
  if (now.backend !== before.backend) {
    cancelRegionJobs();
    get().setModel({ status: 'loading', loaded: 0, total: 0 });
    send({ type: 'setBackend', backend: now.backend });
    return;
  }
  if (now.modelId !== before.modelId) {
    loadModel(now.modelId);
    return;
  }
  if (now.layer !== before.layer) {
    startSession();
    return;
  }
  if (now.classIndex !== before.classIndex || now.variant !== before.variant) {
    if (targetClass() !== get().results.gradient?.classIndex || now.variant !== before.variant) {
      get().setResults({ stage: null });
      requestMaps();
    }
    return;
  }
  if (now.regionMethod !== before.regionMethod) {
    // a new region branch: its map, then Fusion-CAM (the gradient map is still valid)
    startRegion();
    return;
  }
  if (now.gradientMethod !== before.gradientMethod) {
    const c = targetClass();
    const { input } = get();
    if (c === null || !input.blob) return;
    get().setResults({ gradient: null, stage: null });
    send({ type: 'map', gen: input.gen, classIndex: c, variant: now.variant, method: now.gradientMethod });
    requestCombine();
    return;
  }
  if (now.theta !== before.theta || now.weightsMode !== before.weightsMode || (now.weightsMode === 'manual' && now.gamma !== before.gamma)) {
    requestCombine();
  }
}

/** Loads a registry model (also to go back to one after a model of the user's). */
export function loadModel(modelId: string): void {
  const { setModel, setResults } = get();
  cancelRegionJobs();
  setModel({ status: 'loading', loadingId: modelId, loaded: 0, total: 0, error: null, info: null });
  setResults({ ...EMPTY_RESULTS, forwardPasses: get().results.forwardPasses });
  send({ type: 'loadModel', modelId, localBase: modelBase() });
}

export interface TestHooks {
  readonly forwardPasses: number;
  /** θ values whose Fusion-CAM needs no forward pass now (scored ahead on the helper). */
  readonly thetasReady: number;
  readonly numTensors: number | null;
  readonly backend: string | null;
  readonly crossOriginIsolated: boolean;
  /** Forces a WebGL context loss in the engine (WEBGL_lose_context), as a GPU reset would. */
  loseWebglContext(): void;
  /** Forces a WebGPU device loss in the engine (device.destroy()), as a GPU reset would. */
  loseWebgpuDevice(): void;
  /** The float maps the gradient, region and Fusion-CAM panels show now (for cross-backend comparisons). */
  maps(): { gradient: number[] | null; region: number[] | null; regionStatus: string | null; fusion: number[] | null };
}

/** Starts the worker and wires the store to it (once). */
export function startEngine(): void {
  if (started) return;
  started = true;
  if (typeof SharedArrayBuffer !== 'undefined' && globalThis.crossOriginIsolated) {
    control = new Int32Array(new SharedArrayBuffer(CONTROL.length * 4));
    const c = control;
    // the engine's background work (θ scored ahead) pauses while the user moves something
    for (const type of ['input', 'pointerdown', 'pointermove', 'keydown', 'wheel']) addEventListener(type, () => Atomics.add(c, CONTROL.inputCount, 1), { capture: true, passive: true });
  }
  subscribe(onReply);
  startWorker((message) => get().setModel({ status: 'error', error: `The engine worker failed: ${message}` }));
  attachModelClient();
  const { settings } = get();
  get().setModel({ status: 'loading', loadingId: settings.modelId });
  const query = new URLSearchParams(location.search);
  const wasm = query.get('wasm');
  send({
    type: 'init',
    backend: settings.backend,
    control: control ? (control.buffer as SharedArrayBuffer) : null,
    wasmBuild: wasm === 'simd' || wasm === 'plain' ? wasm : 'auto',
    thetaAhead: query.get('thetaAhead') !== '0',
  });
  loadModel(settings.modelId);

  let urlTimer: ReturnType<typeof setTimeout> | undefined;
  useAppStore.subscribe((state, prev) => {
    if (state.settings === prev.settings) return;
    onSettingsChange(state.settings, prev.settings);
    clearTimeout(urlTimer);
    urlTimer = setTimeout(() => {
      const q = queryFromSettings(get().settings, location.search);
      if (q !== location.search) history.replaceState(null, '', `${location.pathname}${q}${location.hash}`);
    }, 150);
  });

  const hooks: TestHooks = {
    get forwardPasses() {
      return get().results.forwardPasses;
    },
    get thetasReady() {
      return get().results.thetasReady;
    },
    get numTensors() {
      return get().results.numTensors;
    },
    get backend() {
      return get().model.backend;
    },
    get crossOriginIsolated() {
      return globalThis.crossOriginIsolated === true;
    },
    loseWebglContext() {
      send({ type: 'loseWebglContext' });
    },
    loseWebgpuDevice() {
      send({ type: 'loseWebgpuDevice' });
    },
    maps() {
      const { results, settings } = get();
      const stage = results.stage;
      const list = (m: Float32Array | null | undefined) => (m ? Array.from(m) : null);
      return {
        gradient: list(results.gradient?.map),
        region: list(results.region?.map),
        regionStatus: results.region?.status ?? null,
        fusion: list(stage ? similarityFusion(stage.combined, stage.betas.combinedStep5, stage.region, stage.betas.regionStep5, settings.tau, stage.variant) : null),
      };
    },
  };
  // read-only hooks for tests and the curious (forward-pass counter: τ must not move it)
  Object.defineProperty(window, '__fusionCam', { value: Object.freeze(hooks), configurable: false, writable: false });
}
