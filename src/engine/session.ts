/**
 * One image on one model at one layer, with caches so that parameter changes cost only what the
 * spec says: activations, logits, baseline, gradients per class and region maps are kept;
 * changing θ re-runs two batch-1 forward passes (β_g, β_dr) unless a second worker scored that θ
 * ahead (seedFusionStages); changing τ runs none.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; tfjs-layers' bundle registers all of core's, in Node and browsers alike.
import '@tensorflow/tfjs-layers';
import type { ModelSplit } from './model/camModel';
import type { ExplainableModel } from './model/explainable';
import { GRADIENT_METHODS, reluUpsample, type GradientMethodId } from './methods/gradient';
import { REGION_METHODS } from './methods/registry';
import { softmaxAt, type RegionContext, type RegionMethodId, type RegionProgress, type RegionResult, type RegionVariant } from './methods/region';
import { scoreCamChannelScores } from './methods/scoreCam';
import { combineStage, fuseStage, type CombinedStage, type FusionParams, type FusionResult, type Probe } from './fusion';
import { isConstant, mapStats, normalizeMap, type FusionVariant } from './maps';
import { CamError } from './errors';

export interface Prediction {
  index: number;
  label: string;
  probability: number;
  logit: number;
}

export interface GradientMapResult {
  method: GradientMethodId;
  map: Float32Array;
  /** The ReLU'd map was all zero before normalisation. */
  allZero: boolean;
  warnings: string[];
}

export interface RegionRunOptions {
  method?: RegionMethodId;
  variant?: RegionVariant;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?(p: RegionProgress): void;
  /** Score channels in order of decreasing Grad-CAM weight (partial maps look right early). */
  orderByGradient?: boolean;
  /** Score-CAM: scores of a batch of channels computed by another worker (see RegionContext). */
  remoteScores?(channels: number[]): Promise<Float32Array>;
}

export interface FusionRunOptions extends RegionRunOptions {
  gradientMethod?: GradientMethodId;
}

/** Refuses an input of the wrong size or with NaN / infinite values (shared by every entry point that runs the model). */
export function checkModelInput(model: Pick<ExplainableModel, 'inputSize'>, input: Float32Array): void {
  const [H, W] = model.inputSize;
  if (input.length !== H * W * 3) throw new CamError(`Input has ${input.length} values, the model needs ${H}×${W}×3`);
  for (let i = 0; i < input.length; i++) if (!Number.isFinite(input[i])) throw new CamError('The input image contains NaN or infinite values', 'non-finite');
}

/** A Probe that answers combineStage's probability requests, in order, with values computed elsewhere. */
function replayProbe(baseline: number, probabilities: number[]): Probe {
  let next = 0;
  return {
    baseline,
    probability: async () => {
      if (next >= probabilities.length) throw new CamError('The seeded Fusion-CAM stage asked for more masked probabilities than were computed');
      return probabilities[next++];
    },
  };
}

export function nonFiniteActivationsMessage(layer: string, bad: number, total: number): string {
  return `The activations at layer ${layer} contain ${bad} NaN or infinite values (of ${total}), so no map at this layer means anything; choose another layer.`;
}

/**
 * A gradient-family saliency (Σ_k w_k A_k at feature resolution) → the map: ReLU, upsample to
 * the input size, checks (non-finite values refused, all-zero and constant maps reported), N.
 */
export async function gradientMapFromSaliency(sal: tf.Tensor2D, inputSize: [number, number], label: string, method: GradientMethodId, variant: FusionVariant): Promise<GradientMapResult> {
  const up = await reluUpsample(sal, inputSize);
  const stats = mapStats(up);
  const warnings: string[] = [];
  if (stats.nonFinite > 0) throw new CamError(`${label} produced ${stats.nonFinite} NaN or infinite values`, 'non-finite');
  const allZero = !(stats.max > 0);
  if (allZero) warnings.push(`${label} is all zero: all evidence is negative for this class at this layer.`);
  else if (isConstant(up)) warnings.push(`${label} is constant.`);
  return { method, map: normalizeMap(up, variant), allZero, warnings };
}

export class ExplanationSession {
  readonly inputSize: [number, number];
  /** Logits and probabilities of the unmasked image. */
  readonly logits: Float32Array;
  readonly probabilities: Float32Array;
  /** Forward passes run by this session, counted per input image (a batch of B counts B). */
  forwardPasses = 0;
  private baseline?: Promise<Float32Array>;
  private readonly grads = new Map<number, tf.Tensor4D>();
  private readonly gradMapCache = new Map<string, Promise<GradientMapResult>>();
  private readonly regionCache = new Map<string, Promise<RegionResult>>();
  private readonly probCache = new Map<Float32Array, number>();
  private readonly stageCache = new Map<string, Promise<CombinedStage>>();
  /** p_c(x ⊙ L_gd), p_c(x ⊙ L_dr) per stage key, scored ahead elsewhere (seedFusionStages). */
  private readonly seededProbabilities = new Map<string, number[]>();
  private disposed = false;
  private activationCheck: Promise<void> | null = null;

  private constructor(
    readonly model: ExplainableModel,
    readonly split: ModelSplit,
    /** [1, H, W, 3] in model input space */
    readonly x: tf.Tensor4D,
    readonly A: tf.Tensor4D,
    private readonly extras: tf.Tensor[],
    logits: Float32Array,
  ) {
    this.inputSize = model.inputSize;
    this.logits = logits;
    const probs = new Float32Array(logits.length);
    for (let i = 0; i < logits.length; i++) probs[i] = softmaxAt(logits, i);
    this.probabilities = probs;
  }

  /** `input`: H×W×3 float32 in the model's input space (see image.ts). */
  static async create(model: ExplainableModel, input: Float32Array, layer?: string): Promise<ExplanationSession> {
    checkModelInput(model, input);
    const [H, W] = model.inputSize;
    const split = model.split(layer);
    const x = tf.tensor4d(input, [1, H, W, 3]);
    const { A, extras } = split.features(x);
    const z = split.head(A, extras);
    const logits = (await z.data()) as Float32Array;
    z.dispose();
    if (logits.some((v) => !Number.isFinite(v))) {
      x.dispose();
      A.dispose();
      extras.forEach((e) => e.dispose());
      throw new CamError('The model produced NaN or infinite scores for this image (a broken model or weights?)', 'non-finite');
    }
    const s = new ExplanationSession(model, split, x, A, extras, Float32Array.from(logits));
    s.forwardPasses = 1;
    return s;
  }

  get layer(): string {
    return this.split.layer.name;
  }

  get predictedClass(): number {
    let best = 0;
    for (let i = 1; i < this.logits.length; i++) if (this.logits[i] > this.logits[best]) best = i;
    return best;
  }

  topK(k = 5): Prediction[] {
    return Array.from(this.probabilities, (p, i) => ({ index: i, probability: p }))
      .sort((a, b) => b.probability - a.probability || a.index - b.index)
      .slice(0, k)
      .map(({ index, probability }) => ({ index, probability, label: this.model.label(index), logit: this.logits[index] }));
  }

  checkClass(c: number): void {
    if (!Number.isInteger(c) || c < 0 || c >= this.model.numClasses) {
      throw new CamError(`Class index ${c} is out of range: the model has classes 0–${this.model.numClasses - 1}`, 'class-range');
    }
  }

  /** z(x_b), x_b = 0 in input space: one forward pass per image. */
  baselineLogits(): Promise<Float32Array> {
    this.baseline ??= (async () => {
      const z = tf.tidy(() => this.model.logits(tf.zerosLike(this.x)));
      this.forwardPasses++;
      const d = Float32Array.from(await z.data());
      z.dispose();
      return d;
    })();
    return this.baseline;
  }

  async baselineProbability(c: number): Promise<number> {
    return softmaxAt(await this.baselineLogits(), c);
  }

  /** ∂z_c/∂A, cached per class. */
  gradients(c: number): tf.Tensor4D {
    this.checkClass(c);
    this.assertLive();
    let g = this.grads.get(c);
    if (!g) {
      const { split, extras } = this;
      g = tf.tidy(() => {
        const f = (a: tf.Tensor) => tf.sum(tf.slice(split.head(a as tf.Tensor4D, extras), [0, c], [1, 1]));
        return tf.grad(f)(this.A) as tf.Tensor4D;
      });
      // keep a few classes; clicking through the top-5 should not recompute
      if (this.grads.size >= 5) {
        const [oldest, t] = this.grads.entries().next().value!;
        t.dispose();
        this.grads.delete(oldest);
      }
      this.grads.set(c, g);
    }
    return g;
  }

  /** A gradient-family map, cached per (class, method, variant). */
  gradientMap(c: number, method: GradientMethodId = 'gradcam', variant: FusionVariant = 'reference'): Promise<GradientMapResult> {
    const key = `${c}|${method}|${variant}`;
    let hit = this.gradMapCache.get(key);
    if (!hit) {
      hit = this.computeGradientMap(c, method, variant);
      hit.catch(() => this.gradMapCache.delete(key));
      this.gradMapCache.set(key, hit);
    }
    return hit;
  }

  /**
   * NaN or ±Inf in the layer's activations make every map at this layer meaningless, and some
   * methods would hide them (Score-CAM's min–max masks turn Inf into NaN scores, then zeros).
   * Checked once per session, before the first map.
   */
  private finiteActivations(): Promise<void> {
    this.activationCheck ??= (async () => {
      const a = await this.A.data();
      let bad = 0;
      for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) bad++;
      if (bad > 0) {
        throw new CamError(nonFiniteActivationsMessage(this.layer, bad, a.length), 'non-finite');
      }
    })();
    return this.activationCheck;
  }

  private async computeGradientMap(c: number, method: GradientMethodId, variant: FusionVariant): Promise<GradientMapResult> {
    const impl = GRADIENT_METHODS[method];
    if (!impl) throw new CamError(`Unknown gradient method "${method}"`);
    await this.finiteActivations();
    const g = this.gradients(c);
    const sal = tf.tidy(() => {
      const [, h, w, K] = this.A.shape;
      return impl.saliency(tf.reshape(this.A, [h, w, K]) as tf.Tensor3D, tf.reshape(g, [h, w, K]) as tf.Tensor3D);
    });
    try {
      return await gradientMapFromSaliency(sal, this.inputSize, impl.label, method, variant);
    } finally {
      sal.dispose();
    }
  }

  /** Channel order by decreasing |Grad-CAM weight|, for early partial maps. */
  private gradientChannelOrder(c: number): number[] {
    const alpha = tf.tidy(() => tf.mean(this.gradients(c), [0, 1, 2]));
    const a = alpha.dataSync();
    alpha.dispose();
    return Array.from(a, (v, k) => ({ v: Math.abs(v), k }))
      .sort((p, q) => q.v - p.v || p.k - q.k)
      .map((e) => e.k);
  }

  /** The region map (Score-CAM by default), cached per (class, method, variant). Bad arguments reject (never throw synchronously). */
  async regionMap(c: number, opts: RegionRunOptions = {}): Promise<RegionResult> {
    this.checkClass(c);
    this.assertLive();
    const method = opts.method ?? 'scorecam';
    const variant = opts.variant ?? 'reference';
    const impl = REGION_METHODS[method];
    if (!impl) throw new CamError(`Unknown region method "${method}"`);
    const key = `${c}|${method}|${variant}`;
    const cached = this.regionCache.get(key);
    if (cached) return cached;
    const run = (async () => {
      await this.finiteActivations();
      const result = await impl.run(this.regionContext(c, opts), variant);
      const badScores = result.scores ? result.scores.filter((v) => !Number.isFinite(v)).length : 0;
      if (badScores > 0) throw new CamError(`${impl.label}: ${badScores} of ${result.scores.length} channel scores are NaN or infinite (the model's scores of masked inputs are not finite)`, 'non-finite');
      const stats = mapStats(result.map);
      if (stats.nonFinite > 0) throw new CamError(`${impl.label} produced NaN or infinite values`, 'non-finite');
      // the shared baseline pass is counted by baselineLogits()
      this.forwardPasses += result.forwardPasses - (result.constantChannels > 0 && variant !== 'original' && method === 'scorecam' ? 1 : 0);
      return result;
    })();
    this.regionCache.set(key, run);
    run.catch(() => this.regionCache.delete(key));
    return run;
  }

  private regionContext(c: number, opts: RegionRunOptions): RegionContext {
    return {
      x: this.x,
      A: this.A,
      classIndex: c,
      inputSize: this.inputSize,
      logits: (x) => this.model.logits(x),
      head: (A) => this.split.head(A, this.extras),
      baselineLogits: () => this.baselineLogits(),
      imageLogits: this.logits,
      gradients: async () => this.gradients(c),
      batchSize: opts.batchSize ?? 32,
      channelOrder: opts.orderByGradient ? this.gradientChannelOrder(c) : undefined,
      signal: opts.signal,
      onProgress: opts.onProgress,
      remoteScores: opts.remoteScores,
      regionMap: (m, v) => this.regionMap(c, { ...opts, method: m, variant: v }),
    };
  }

  /**
   * Score-CAM scores of some channels only, for another worker's Score-CAM run on the same
   * model, image and layer (the remote half of a two-core run). Not cached.
   */
  async scoreCamChannelScores(c: number, variant: RegionVariant, channels: number[], batchSize = 32): Promise<Float32Array> {
    this.checkClass(c);
    this.assertLive();
    await this.finiteActivations();
    const K = this.A.shape[3];
    for (const k of channels) if (!Number.isInteger(k) || k < 0 || k >= K) throw new CamError(`Channel ${k} is out of range: layer ${this.layer} has ${K} channels`);
    const scores = await scoreCamChannelScores(this.regionContext(c, { batchSize }), variant, channels);
    this.forwardPasses += channels.length;
    return scores;
  }

  /** p_c(x ⊙ M), one batch-1 forward pass (cached per map object). */
  async maskedProbability(c: number, mask: Float32Array): Promise<number> {
    const hit = this.probCache.get(mask);
    if (hit !== undefined) return hit;
    this.assertLive();
    const [H, W] = this.inputSize;
    const z = tf.tidy(() => this.model.logits(tf.mul(this.x, tf.tensor4d(mask, [1, H, W, 1])) as tf.Tensor4D));
    this.forwardPasses++;
    const logits = await z.data();
    z.dispose();
    const p = softmaxAt(logits, c);
    this.probCache.set(mask, p);
    return p;
  }

  /** p_c(x ⊙ M) for several masks, in forward passes of up to `batchSize` images. */
  async maskedProbabilities(c: number, masks: Float32Array[], batchSize = 8): Promise<number[]> {
    this.assertLive();
    const [H, W] = this.inputSize;
    const out: number[] = [];
    for (let i = 0; i < masks.length; i += batchSize) {
      const chunk = masks.slice(i, i + batchSize);
      const flat = new Float32Array(chunk.length * H * W);
      chunk.forEach((m, j) => flat.set(m, j * H * W));
      const z = tf.tidy(() => this.model.logits(tf.mul(this.x, tf.tensor4d(flat, [chunk.length, H, W, 1])) as tf.Tensor4D));
      this.forwardPasses += chunk.length;
      const logits = await z.data();
      z.dispose();
      const n = logits.length / chunk.length;
      for (let j = 0; j < chunk.length; j++) out.push(softmaxAt(logits.subarray(j * n, (j + 1) * n), c));
    }
    return out;
  }

  private probe(c: number, pb: number): Probe {
    return { baseline: pb, probability: (m) => this.maskedProbability(c, m) };
  }

  private stageKey(c: number, params: Omit<FusionParams, 'tau'>, opts: FusionRunOptions): string {
    return JSON.stringify([c, opts.gradientMethod ?? 'gradcam', opts.method ?? 'scorecam', opts.variant ?? params.variant, params.theta, params.variant, params.weights]);
  }

  /**
   * The two probabilities steps 1–4 need for each θ (p_c(x ⊙ L_gd) and p_c(x ⊙ L_dr)), for maps
   * computed elsewhere: what a second worker runs so that θ changes later cost no forward pass
   * (see seedFusionStages). The steps are the same combineStage; their masks are scored in
   * batches across all θ instead of one batch-1 pass at a time.
   */
  async fusionStageProbabilities(
    c: number,
    maps: { gradient: Float32Array; region: Float32Array; baseline: number; regionProbability: number },
    params: Omit<FusionParams, 'tau' | 'theta'>,
    thetas: number[],
    batchSize = 8,
  ): Promise<{ theta: number; probabilities: number[] }[]> {
    // every stage asks for its next mask, then waits: the asks of one round go out as one batch
    let queue: { mask: Float32Array; resolve(p: number): void; reject(e: unknown): void }[] = [];
    const flush = () => {
      const batch = queue;
      queue = [];
      this.maskedProbabilities(c, batch.map((q) => q.mask), batchSize).then(
        (ps) => batch.forEach((q, i) => q.resolve(ps[i])),
        (e) => batch.forEach((q) => q.reject(e)),
      );
    };
    return Promise.all(
      thetas.map(async (theta) => {
        const probabilities: number[] = [];
        const probe: Probe = {
          baseline: maps.baseline,
          probability: (mask) =>
            new Promise<number>((resolve, reject) => {
              if (queue.length === 0) setTimeout(flush, 0);
              queue.push({ mask, resolve: (p) => (probabilities.push(p), resolve(p)), reject });
            }),
        };
        await combineStage(maps.gradient, maps.region, { ...params, theta }, probe, maps.regionProbability);
        return { theta, probabilities };
      }),
    );
  }

  /**
   * Records fusionStageProbabilities' answers (computed by a second worker on the same model and
   * input): fusion() at those θ then builds steps 1–4 from them and runs no forward pass. Only the
   * two numbers per θ are kept; the maps are made when that θ is asked for.
   */
  seedFusionStages(c: number, params: Omit<FusionParams, 'tau' | 'theta'>, opts: FusionRunOptions, answers: { theta: number; probabilities: number[] }[]): void {
    this.assertLive();
    for (const { theta, probabilities } of answers) {
      const key = this.stageKey(c, { ...params, theta }, opts);
      if (!this.stageCache.has(key)) this.seededProbabilities.set(key, probabilities);
    }
  }

  /** Steps 1–4 for these parameters are cached (computed, seeded or under way). */
  hasFusionStage(c: number, params: Omit<FusionParams, 'tau'>, opts: FusionRunOptions = {}): boolean {
    const key = this.stageKey(c, params, opts);
    return this.stageCache.has(key) || this.seededProbabilities.has(key);
  }

  private cacheStage(key: string, stage: Promise<CombinedStage>): void {
    stage.catch(() => this.stageCache.delete(key));
    if (this.stageCache.size > 64) this.stageCache.delete(this.stageCache.keys().next().value!);
    this.stageCache.set(key, stage);
  }

  /** Fusion-CAM end to end; steps 1–4 are cached per (θ, variant, weights, maps), step 5 is free. */
  async fusion(c: number, params: FusionParams, opts: FusionRunOptions = {}): Promise<FusionResult> {
    const gradientMethod = opts.gradientMethod ?? 'gradcam';
    const regionVariant: RegionVariant = opts.variant ?? params.variant;
    const [grad, region, pb] = await Promise.all([
      this.gradientMap(c, gradientMethod, params.variant),
      this.regionMap(c, { ...opts, variant: regionVariant }),
      this.baselineProbability(c),
    ]);
    const key = this.stageKey(c, params, opts);
    let stage = this.stageCache.get(key);
    if (!stage) {
      // kept after use: a stage evicted from the cache is rebuilt from them, still with no pass
      const seeded = this.seededProbabilities.get(key);
      stage = (async () => {
        const pr = await this.maskedProbability(c, region.map);
        const s = await combineStage(grad.map, region.map, { theta: params.theta, variant: params.variant, weights: params.weights }, seeded ? replayProbe(pb, seeded) : this.probe(c, pb), pr);
        s.warnings.unshift(...grad.warnings);
        // scored ahead: the passes ran elsewhere, none here
        return seeded ? { ...s, forwardPasses: 0 } : s;
      })();
      this.cacheStage(key, stage);
    }
    return fuseStage(await stage, params.tau);
  }

  private assertLive(): void {
    if (this.disposed) throw new CamError('This explanation was closed', 'disposed');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.x.dispose();
    this.A.dispose();
    this.extras.forEach((e) => e.dispose());
    this.grads.forEach((g) => g.dispose());
    this.grads.clear();
  }
}
