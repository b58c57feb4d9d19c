/**
 * The typed message protocol between the UI thread and the engine worker. Every request that
 * concerns an image carries the image generation `gen`; the UI drops replies of stale
 * generations, and the worker skips queued requests of generations the UI has moved past.
 */
import type { LayerInfo } from '../engine/model/camModel';
import type { Prediction } from '../engine/session';
import type { FusionBetas } from '../engine/fusion';
import type { FusionVariant } from '../engine/maps';
import type { ContributionWeights } from '../engine/fusion';
import type { GradientMethodId } from '../engine/methods/registry';
import type { RegionMethodId } from '../engine/methods/registry';
import type { ModelReply, ModelRequest } from './modelProtocol';
import type { EvaluationReply, EvaluationRequest } from './evaluationProtocol';
import type { LiveFrameRequest, LiveReply } from './liveProtocol';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';

/**
 * Shared control words (an Int32Array over a SharedArrayBuffer when the page is cross-origin
 * isolated). The engine's Score-CAM loop never yields to the worker's event loop on wasm/cpu
 * (their `data()` resolves in a microtask), so a "cancel" message would only be read after the
 * run; a shared word is read between batches instead.
 */
export const CONTROL = {
  /** Region jobs with an id below this value are cancelled. */
  cancelBelow: 0,
  /** The newest image generation; requests of older generations are skipped. */
  latestGen: 1,
  /** Counts the user's input events on the page: background work waits while it moves. */
  inputCount: 2,
  length: 3,
} as const;

export interface LoadedModelInfo {
  modelId: string;
  name: string;
  inputSize: [number, number];
  numClasses: number;
  layers: LayerInfo[];
  defaultLayer: string;
  labels: string[];
}

export interface StageData {
  classIndex: number;
  theta: number;
  variant: FusionVariant;
  weights: ContributionWeights;
  gradientMethod?: GradientMethodId;
  regionMethod?: RegionMethodId;
  denoised: Float32Array;
  combined: Float32Array;
  region: Float32Array;
  threshold: number;
  betas: FusionBetas;
  warnings: string[];
}

export type WorkerRequest =
  | { type: 'init'; backend: BackendChoice; control: SharedArrayBuffer | null; wasmBuild?: 'auto' | 'simd' | 'plain'; /** score other θ ahead on the helper (default true; `?thetaAhead=0` turns it off) */ thetaAhead?: boolean }
  | { type: 'setBackend'; backend: BackendChoice }
  | { type: 'loadModel'; modelId: string; localBase?: string }
  | { type: 'setImage'; gen: number; blob: Blob; displayMaxSide: number }
  | { type: 'session'; gen: number; layer?: string }
  /** A map of one method (any family). A region map is a job: `job` (for cancelling) and `batchSize` apply to it. */
  | { type: 'map'; gen: number; method: GradientMethodId | RegionMethodId; classIndex: number; variant: FusionVariant; job?: number; batchSize?: number }
  | { type: 'combine'; gen: number; classIndex: number; theta: number; variant: FusionVariant; weights: ContributionWeights; gradientMethod?: GradientMethodId; regionMethod?: RegionMethodId }
  | { type: 'cancel'; job: number }
  /** Diagnostics: forces a WebGL context loss (WEBGL_lose_context), as a GPU reset would. */
  | { type: 'loseWebglContext' }
  /** Diagnostics: forces a WebGPU device loss (device.destroy()), as a GPU reset would. */
  | { type: 'loseWebgpuDevice' }
  | ModelRequest
  | EvaluationRequest
  | LiveFrameRequest;

export type WorkerReply =
  | { type: 'backend'; backend: BackendName; renderer: string | null; note?: string; wasmThreads?: number; webglFloat32?: boolean; /** WebGPU: kernels it lacks, run on the cpu backend */ fallbackKernels?: string[] }
  | { type: 'modelProgress'; modelId: string; loaded: number; total: number }
  | { type: 'modelLoaded'; info: LoadedModelInfo }
  | { type: 'modelError'; modelId: string; message: string }
  | { type: 'imageDecoded'; gen: number; width: number; height: number; displayWidth: number; displayHeight: number; displayPixels: Uint8ClampedArray<ArrayBuffer> }
  | { type: 'sessionReady'; gen: number; layer: string; predictions: Prediction[]; forwardPasses: number; numTensors: number }
  | { type: 'gradient'; gen: number; classIndex: number; variant: FusionVariant; method?: GradientMethodId; map: Float32Array; warnings: string[]; forwardPasses: number }
  | { type: 'regionProgress'; gen: number; job: number; classIndex: number; done: number; total: number; partial: Float32Array | null }
  | { type: 'region'; gen: number; job: number; classIndex: number; variant: FusionVariant; method?: RegionMethodId; map: Float32Array; forwardPasses: number; ms: number; numTensors: number; /** passes the Score-CAM helper worker ran */ helperPasses?: number }
  | { type: 'regionCancelled'; gen: number; job: number; classIndex: number }
  | { type: 'combined'; gen: number; stage: StageData; forwardPasses: number; numTensors: number }
  | { type: 'combineSkipped'; gen: number }
  /** θ values whose steps 1–4 are ready in the worker (computed or scored ahead by the helper). */
  | { type: 'thetasAhead'; gen: number; classIndex: number; ready: number; total: number }
  /** `request`: the request's type; for a 'map' request, the family of the panel it fills. */
  | { type: 'error'; gen?: number; request: WorkerRequest['type'] | 'gradient' | 'region'; message: string }
  | { type: 'backendLost'; message: string }
  | { type: 'backendRecovered'; backend: BackendName; message: string }
  | ModelReply
  | EvaluationReply
  | LiveReply;
