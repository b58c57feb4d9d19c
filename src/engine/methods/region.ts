/** What a region-family method (Score-CAM, Group-CAM, Ablation-CAM, …) gets to work with. */
import type * as tf from '@tensorflow/tfjs-core';

export type RegionVariant = 'reference' | 'xplain' | 'original';

/** How a channel's mask H_k is made from A_k and how the masked input is scored. */
export interface ChannelMaskScoring {
  /** N(Up(A_k)) ('after-upsampling') or Up(N(A_k)) ('before-upsampling'). */
  normalise: 'after-upsampling' | 'before-upsampling';
  /** s_k: the class logit or the class probability of x ⊙ H_k. */
  score: 'logit' | 'probability';
}

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
   * s_k = score_c(x ⊙ H_k) of each channel's mask, in batches of `batchSize`; `onBatch` hears
   * each batch as it ends (in any order). Which engine scores which batch is not the method's
   * business (see acceleration/channelScorer.ts).
   */
  scoreChannelMasks(channels: number[], scoring: ChannelMaskScoring, onBatch: (channels: number[], values: ArrayLike<number>) => void): Promise<void>;
  /** Another region map of the same image and class, through the caller's cache (Union-CAM uses Score-CAM). */
  regionMap?(method: string, variant: RegionVariant): Promise<RegionResult>;
}

export interface RegionResult {
  /** H×W map in [0, 1]. */
  map: Float32Array;
  /** Per-channel (or per-group) score s_k as defined by the method and variant. */
  scores: Float32Array;
  /** Forward passes actually run (batched inputs count one each). */
  forwardPasses: number;
  /** Of those, the ones that came from ctx.baselineLogits() (the context counts them already). */
  baselinePasses?: number;
  /** Channels whose mask was constant (scored by the one shared baseline pass, or skipped). */
  constantChannels: number;
  /** Method-specific values worth showing (e.g. Union-CAM's β and which map it selected). */
  info?: Record<string, number | string>;
}

/** log-sum-exp-stable softmax of one row. */
export function softmaxAt(logits: ArrayLike<number>, c: number): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - m);
  return Math.exp(logits[c] - m) / s;
}
