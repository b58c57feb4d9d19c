/**
 * Faithfulness metrics (docs/method.md §5), with the semantics of the authors' evaluation code
 * (Xplain-CAM xplaincam/metrics/drop__increase_conf.py and ins_del.py):
 *
 * - Average Drop / Increase in Confidence, per image: Y = p_c(x), O = p_c(x ⊙ L) with the map
 *   used as given (no re-normalisation); drop = max(0, Y − O)/(Y + 1e-8), increase = [O > Y].
 * - Deletion / Insertion: pixels ordered by the map, descending, ties by lower index (a stable
 *   sort); `step` pixels (default 448) change per step; n_steps = ⌈H·W/step⌉ and n_steps + 1
 *   evaluations (113 for 224×224). Deletion goes from x to 0 (input space); insertion from
 *   GaussianBlur(x) (51×51, σ = 50, reflect) to x. AUC = (Σ s_i − s_0/2 − s_last/2)/(n − 1).
 *
 * The two end points of each curve do not depend on the map (nothing / everything replaced),
 * so they are computed once per image and shared by every map scored with the same evaluator.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CamError, throwIfAborted } from '../errors';
import { gaussianBlur, type BlurOptions } from './blur';

export type CurveMode = 'deletion' | 'insertion';

/** Any classifier: inputs [B, H, W, 3] (model input space) → logits [B, classes]. Tidy-safe, synchronous. */
export type LogitsFn = (x: tf.Tensor4D) => tf.Tensor2D;

export interface DropIncrease {
  /** Y = p_c(x) */
  original: number;
  /** O = p_c(x ⊙ L) */
  masked: number;
  /** max(0, Y − O)/(Y + 1e-8) */
  drop: number;
  /** 1 if O > Y else 0 */
  increase: 0 | 1;
}

export interface Curve {
  mode: CurveMode;
  /** p_c after 0, 1, …, n_steps steps. */
  scores: Float32Array;
  auc: number;
}

export interface FaithfulnessResult extends DropIncrease {
  deletion: Curve;
  insertion: Curve;
}

export interface CurveProgress {
  /** Evaluations done and in all (both curves when scoring both). */
  done: number;
  total: number;
}

export interface EvaluatorOptions {
  /** Pixels moved per step; 448 in the authors' code (2 rows of 224). */
  step?: number;
  /** Images per forward pass when scoring a curve. */
  batchSize?: number;
  /** The insertion start image's blur. */
  blur?: BlurOptions;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?(p: CurveProgress): void;
}

/** ⌈n/step⌉ + 1: the number of points on a deletion or insertion curve. */
export function curveLength(nPixels: number, step: number): number {
  return Math.ceil(nPixels / step) + 1;
}

/** AUC as the authors compute it (trapezoid rule on a unit x-axis). */
export function curveAuc(scores: ArrayLike<number>): number {
  const n = scores.length;
  if (n < 2) throw new Error('A curve needs at least two points');
  let s = 0;
  for (let i = 0; i < n; i++) s += scores[i];
  return (s - scores[0] / 2 - scores[n - 1] / 2) / (n - 1);
}

/** Pixel indices ordered by map value, descending; equal values keep index order. */
export function pixelOrder(map: ArrayLike<number>): Uint32Array {
  for (let i = 0; i < map.length; i++) if (Number.isNaN(map[i])) throw new CamError('The map contains NaN values; it cannot be scored', 'non-finite');
  const order = Array.from({ length: map.length }, (_, i) => i);
  order.sort((a, b) => map[b] - map[a] || a - b);
  return Uint32Array.from(order);
}

export function dropIncrease(original: number, masked: number): DropIncrease {
  return { original, masked, drop: Math.max(0, original - masked) / (original + 1e-8), increase: masked > original ? 1 : 0 };
}

/** Batch means, as reported in the authors' table (fractions). */
export function averageDrop(values: ArrayLike<DropIncrease>): number {
  return mean(Array.from(values, (v) => v.drop));
}

export function increaseInConfidence(values: ArrayLike<DropIncrease>): number {
  return mean(Array.from(values, (v) => v.increase));
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

async function probabilities(logits: LogitsFn, x: tf.Tensor4D, c: number): Promise<Float32Array> {
  const p = tf.tidy(() => tf.reshape(tf.slice(tf.softmax(logits(x)), [0, c], [-1, 1]), [-1]));
  const d = (await p.data()) as Float32Array;
  p.dispose();
  return d;
}

/**
 * Scores maps for one image and one class. Holds x, the blurred x and the curve end points;
 * `dispose()` frees them.
 */
export class FaithfulnessEvaluator {
  readonly step: number;
  readonly batchSize: number;
  readonly nPixels: number;
  private blurred?: tf.Tensor4D;
  private ends?: Promise<{ original: number; blurred: number; zero: number }>;
  private readonly pixelCache = new Map<'x' | 'blurred', Promise<Float32Array>>();
  private disposed = false;

  private constructor(
    private readonly logits: LogitsFn,
    /** [1, H, W, C], model input space (owned). */
    readonly x: tf.Tensor4D,
    readonly classIndex: number,
    private readonly opts: EvaluatorOptions,
  ) {
    const [, H, W] = x.shape;
    this.nPixels = H * W;
    this.step = opts.step ?? 448;
    this.batchSize = Math.max(1, Math.floor(opts.batchSize ?? 16));
    if (!Number.isInteger(this.step) || this.step < 1) throw new CamError(`The curve step must be a positive whole number of pixels, got ${opts.step}`);
  }

  /** `x`: [1, H, W, C] tensor (copied) or H·W·3 floats with `size` = [H, W]. */
  static create(logits: LogitsFn, x: tf.Tensor4D | Float32Array, classIndex: number, opts: EvaluatorOptions & { size?: [number, number] } = {}): FaithfulnessEvaluator {
    let t: tf.Tensor4D;
    if (x instanceof Float32Array) {
      const size = opts.size;
      if (!size) throw new Error('FaithfulnessEvaluator.create: the input size is needed with a Float32Array input');
      if (x.length !== size[0] * size[1] * 3) throw new CamError(`Input has ${x.length} values, expected ${size[0]}×${size[1]}×3`);
      t = tf.tensor4d(x, [1, size[0], size[1], 3]);
    } else {
      if (x.shape[0] !== 1) throw new Error('FaithfulnessEvaluator works on one image');
      t = tf.clone(x);
    }
    if (!Number.isInteger(classIndex) || classIndex < 0) {
      t.dispose();
      throw new CamError(`Class index ${classIndex} is not valid`, 'class-range');
    }
    return new FaithfulnessEvaluator(logits, t, classIndex, opts);
  }

  get inputSize(): [number, number] {
    return [this.x.shape[1], this.x.shape[2]];
  }

  /** n_steps + 1 */
  get curveLength(): number {
    return curveLength(this.nPixels, this.step);
  }

  private assertLive(): void {
    if (this.disposed) throw new CamError('This evaluator was disposed', 'disposed');
  }

  /** x or blur(x) as H·W·C floats, downloaded once. */
  private pixels(which: 'x' | 'blurred'): Promise<Float32Array> {
    let hit = this.pixelCache.get(which);
    if (!hit) {
      hit = (which === 'x' ? this.x : this.blurredInput()).data() as Promise<Float32Array>;
      this.pixelCache.set(which, hit);
    }
    return hit;
  }

  private blurredInput(): tf.Tensor4D {
    this.blurred ??= gaussianBlur(this.x, { kernelSize: 51, sigma: 50, ...this.opts.blur });
    return this.blurred;
  }

  /** p_c(x), p_c(blur(x)), p_c(0): one batch-3 forward pass per image. */
  endPoints(): Promise<{ original: number; blurred: number; zero: number }> {
    this.assertLive();
    this.ends ??= (async () => {
      const blurred = this.blurredInput(); // kept: created outside the tidy
      const batch = tf.tidy(() => tf.concat([this.x, blurred, tf.zerosLike(this.x)]) as tf.Tensor4D);
      const p = await probabilities(this.logits, batch, this.classIndex).finally(() => batch.dispose());
      return { original: p[0], blurred: p[1], zero: p[2] };
    })();
    return this.ends;
  }

  private checkMap(map: ArrayLike<number>): void {
    if (map.length !== this.nPixels) {
      const [H, W] = this.inputSize;
      throw new CamError(`The map has ${map.length} values; the model input is ${H}×${W} = ${this.nPixels}`, 'bad-map');
    }
    for (let i = 0; i < map.length; i++) if (!Number.isFinite(map[i])) throw new CamError('The map contains NaN or infinite values; it cannot be scored', 'non-finite');
  }

  /** Average Drop and Increase terms for one map: one batch-1 forward pass (plus the shared end points). */
  async dropIncrease(map: ArrayLike<number>): Promise<DropIncrease> {
    this.assertLive();
    this.checkMap(map);
    const { original } = await this.endPoints();
    const [H, W] = this.inputSize;
    const masked = tf.tidy(() => tf.mul(this.x, tf.tensor4d(Float32Array.from(map), [1, H, W, 1])) as tf.Tensor4D);
    const [o] = await probabilities(this.logits, masked, this.classIndex).finally(() => masked.dispose());
    return dropIncrease(original, o);
  }

  /** One deletion or insertion curve: n_steps − 1 interior evaluations, batched. */
  async curve(map: ArrayLike<number>, mode: CurveMode, run: RunOptions = {}, progressBase = { done: 0, total: 0 }): Promise<Curve> {
    this.assertLive();
    this.checkMap(map);
    const ends = await this.endPoints();
    const n = this.curveLength;
    const scores = new Float32Array(n);
    scores[0] = mode === 'deletion' ? ends.original : ends.blurred;
    scores[n - 1] = mode === 'deletion' ? ends.zero : ends.original;
    const total = progressBase.total || n - 2;
    const order = pixelOrder(map);
    const [H, W] = this.inputSize;
    const C = this.x.shape[3];
    const size = H * W * C;
    // Step images are built in JS: a masked copy per image is cheap, while broadcast comparisons
    // on the wasm backend cost more than the forward pass itself. Values are exact copies of
    // start or finish, as the authors' index assignment.
    const start = await this.pixels(mode === 'deletion' ? 'x' : 'blurred');
    const finish = mode === 'deletion' ? null : await this.pixels('x');
    for (let i = 1; i < n - 1; i += this.batchSize) {
      throwIfAborted(run.signal);
      const steps = Array.from({ length: Math.min(this.batchSize, n - 1 - i) }, (_, j) => i + j);
      const data = new Float32Array(steps.length * size);
      steps.forEach((s, j) => {
        const o = j * size;
        data.set(start, o);
        const upto = Math.min(order.length, s * this.step);
        for (let r = 0; r < upto; r++) {
          const p = o + order[r] * C;
          for (let ch = 0; ch < C; ch++) data[p + ch] = finish ? finish[order[r] * C + ch] : 0;
        }
      });
      const batch = tf.tensor4d(data, [steps.length, H, W, C]);
      const p = await probabilities(this.logits, batch, this.classIndex).finally(() => batch.dispose());
      steps.forEach((s, j) => (scores[s] = p[j]));
      run.onProgress?.({ done: progressBase.done + steps[steps.length - 1], total });
    }
    throwIfAborted(run.signal);
    return { mode, scores, auc: curveAuc(scores) };
  }

  /** All four metrics for one map. */
  async evaluate(map: ArrayLike<number>, run: RunOptions = {}): Promise<FaithfulnessResult> {
    const di = await this.dropIncrease(map);
    const perCurve = this.curveLength - 2;
    const total = 2 * perCurve;
    const deletion = await this.curve(map, 'deletion', run, { done: 0, total });
    const insertion = await this.curve(map, 'insertion', run, { done: perCurve, total });
    return { ...di, deletion, insertion };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.x.dispose();
    this.blurred?.dispose();
  }
}
