/**
 * Union-CAM (Hu et al. 2024; docs/method.md §2), the hard-selection ensemble Fusion-CAM improves on.
 *   g̃_k = g_k with entries below their own θ-th percentile (θ = 10, numpy linear) set to 0;
 *   S_k = Σ_ij ReLU(g̃_k) + 1e-8;  L_d = N(Up(Σ_k (ReLU(g̃_k)/S_k) ⊙ A_k))  (no ReLU before Up);
 *   L_r = Score-CAM of the same variant;  β_d = p_c(x ⊙ L_d) − p_b, β_r = p_c(x ⊙ L_r) − p_b;
 *   L_dr = N(β_d L_d + β_r L_r);  β_dr = p_c(x ⊙ L_dr) − p_b;
 *   output L_dr if β_dr > β_r else L_r.
 * reference (official Fusion-CAM repo): N divides by max only if > 0, L_r is re-normalised, and
 * the chosen map is multiplied by its β and normalised again (a negative β flips it, as there).
 * xplain / original: N with +1e-8, the chosen map as is.
 * Forward passes: Score-CAM's (through the caller's cache when there is one) + 3 masked + p_b.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalizeMap, percentile, type FusionVariant } from '../maps';
import { throwIfAborted } from '../errors';
import { scoreCamRun } from './scoreCam';
import { softmaxAt, type RegionContext, type RegionResult, type RegionVariant } from './region';
import { regionMethod } from './method';

export const UNION_CAM_THETA = 10;

/** Σ_k (ReLU(g̃_k)/S_k) A_k at feature resolution, h·w values (float64 accumulation). */
export function denoisedSaliency(A: Float32Array, g: Float32Array, h: number, w: number, K: number, theta = UNION_CAM_THETA): Float32Array {
  const n = h * w;
  const sal = new Float64Array(n);
  const gk = new Float32Array(n);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < n; i++) gk[i] = g[i * K + k];
    const t = percentile(gk, theta);
    let S = 0;
    for (let i = 0; i < n; i++) {
      if (gk[i] < t) gk[i] = 0;
      if (gk[i] > 0) S += gk[i];
    }
    S += 1e-8;
    for (let i = 0; i < n; i++) if (gk[i] > 0) sal[i] += (gk[i] / S) * A[i * K + k];
  }
  return Float32Array.from(sal);
}

export async function unionCamRun(ctx: RegionContext, variant: RegionVariant): Promise<RegionResult> {
  const { A, x, inputSize, classIndex: c } = ctx;
  const [, h, w, K] = A.shape;
  const [H, W] = inputSize;
  const nv: FusionVariant = variant === 'reference' ? 'reference' : 'xplain';

  const g = await ctx.gradients();
  const [Ad, gd] = await Promise.all([A.data() as Promise<Float32Array>, g.data() as Promise<Float32Array>]);
  const sal = denoisedSaliency(Ad, gd, h, w, K);
  const up = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(sal, [1, h, w, 1]), [H, W], false, true));
  const Ld = normalizeMap((await up.data()) as Float32Array, nv);
  up.dispose();
  throwIfAborted(ctx.signal);

  // Score-CAM through the caller's cache when it has one; then its passes are counted there
  const cached = ctx.regionMap !== undefined;
  const region = cached ? await ctx.regionMap!('scorecam', variant) : await scoreCamRun(ctx, variant);
  const Lr = variant === 'reference' ? normalizeMap(region.map, 'reference') : region.map;
  throwIfAborted(ctx.signal);

  const pb = softmaxAt(await ctx.baselineLogits(), c);
  const probs = async (maps: Float32Array[]): Promise<Float32Array> => {
    const p = tf.tidy(() => {
      const flat = new Float32Array(maps.length * H * W);
      maps.forEach((mm, i) => flat.set(mm, i * H * W));
      const m = tf.tensor4d(flat, [maps.length, H, W, 1]);
      return tf.reshape(tf.slice(tf.softmax(ctx.logits(tf.mul(x, m) as tf.Tensor4D)), [0, c], [-1, 1]), [-1]);
    });
    const d = (await p.data()) as Float32Array;
    p.dispose();
    return d;
  };
  const [pd, pr] = await probs([Ld, Lr]);
  const betaD = pd - pb;
  const betaR = pr - pb;
  const combined = new Float32Array(H * W);
  for (let i = 0; i < combined.length; i++) combined[i] = betaD * Ld[i] + betaR * Lr[i];
  const Ldr = normalizeMap(combined, nv);
  throwIfAborted(ctx.signal);
  const [pdr] = await probs([Ldr]);
  const betaDR = pdr - pb;
  const useCombined = betaDR > betaR;
  let map = useCombined ? Ldr : Lr;
  if (variant === 'reference') {
    const beta = useCombined ? betaDR : betaR;
    map = normalizeMap(Float32Array.from(map, (v) => v * beta), 'reference');
  }
  return {
    map,
    scores: region.scores,
    forwardPasses: 3 + (cached ? 0 : region.forwardPasses),
    constantChannels: 0,
    info: { betaDenoised: betaD, betaRegion: betaR, betaCombined: betaDR, baseline: pb, selected: useCombined ? 'combined' : 'region' },
  };
}

export const unionCam = regionMethod({
  id: 'unioncam',
  label: 'Union-CAM',
  family: 'region',
  needs: { gradients: true, forwardPasses: true },
  run: unionCamRun,
});
