/** What a region-family method (Score-CAM, Group-CAM, Ablation-CAM, …) gets to work with. */
import type * as tf from '@tensorflow/tfjs-core';

export type RegionVariant = 'reference' | 'xplain' | 'original';

export interface RegionProgress {
  /** Forward-pass inputs scored so far and in all. */
  done: number;
  total: number;
  /** The map from the channels scored so far (computed only if called). */
  partial?: () => Promise<Float32Array>;
}

export interface RegionContext {
  /** The image in model input space, [1, H, W, 3]. */
  x: tf.Tensor4D;
  /** Target-layer activations, [1, h, w, K]. */
  A: tf.Tensor4D;
  classIndex: number;
  inputSize: [number, number];
  /** Full forward pass: inputs [B, H, W, 3] → logits [B, classes]. */
  logits(x: tf.Tensor4D): tf.Tensor2D;
  /** Head only: activations [B, h, w, K] → logits [B, classes]. */
  head(A: tf.Tensor4D): tf.Tensor2D;
  /** z(x_b) with x_b = 0, computed once per image. */
  baselineLogits(): Promise<Float32Array>;
  /** Logits of the unmasked image z(x). */
  imageLogits: Float32Array;
  /** ∂z_c/∂A, [1, h, w, K] (owned by the caller; do not dispose). */
  gradients(): Promise<tf.Tensor4D>;
  batchSize: number;
  /** Channels in the order to score them (e.g. by Grad-CAM weight, so partial maps are useful early). */
  channelOrder?: number[];
  signal?: AbortSignal;
  onProgress?(p: RegionProgress): void;
  /**
   * Scores of a batch of channels computed elsewhere: another worker holding the same model,
   * image and layer (the app's second core). Score-CAM then takes batches from both ends of the
   * channel order, this thread from the front, the remote one from the back, until they meet.
   */
  remoteScores?(channels: number[]): Promise<Float32Array>;
  /** Another region map of the same image and class, through the caller's cache (Union-CAM uses Score-CAM). */
  regionMap?(method: RegionMethodId, variant: RegionVariant): Promise<RegionResult>;
}

export interface RegionResult {
  /** H×W map in [0, 1]. */
  map: Float32Array;
  /** Per-channel (or per-group) score s_k as defined by the method and variant. */
  scores: Float32Array;
  /** Forward passes actually run (batched inputs count one each). */
  forwardPasses: number;
  /** Channels whose mask was constant (scored by the one shared baseline pass, or skipped). */
  constantChannels: number;
  /** Method-specific values worth showing (e.g. Union-CAM's β and which map it selected). */
  info?: Record<string, number | string>;
}

export type RegionMethodId = 'scorecam' | 'groupcam' | 'ablationcam' | 'unioncam';

export interface RegionCamMethod {
  id: RegionMethodId;
  label: string;
  run(ctx: RegionContext, variant: RegionVariant): Promise<RegionResult>;
}

/** log-sum-exp-stable softmax of one row. */
export function softmaxAt(logits: ArrayLike<number>, c: number): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - m);
  return Math.exp(logits[c] - m) / s;
}
