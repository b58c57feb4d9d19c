/**
 * Group-CAM (Zhang et al. 2021; docs/method.md §2). α_k = mean_ij ∂z_c/∂A_k; the K channels are split into
 * G = 32 contiguous groups (torch.chunk: ⌈K/G⌉ channels each, so fewer groups when K is not a
 * multiple); M_l = ReLU(Σ_{k∈l} α_k A_k), U_l = Up(M_l), Û_l = N(U_l);
 * s_l = ReLU(p_c(Û_l ⊙ x + (1 − Û_l) ⊙ X̃) − p_c(X̃)) with X̃ = GaussianBlur(x), 51×51, reflect.
 *   reference (official Fusion-CAM repo): σ = 25, N divides by max only if > 0, L = N(ReLU(Σ s_l Û_l)).
 *   xplain / original: σ = 50, N with +1e-8, L = N(Σ s_l U_l).
 * A group whose Û_l is all zero blends to exactly X̃, so s_l = 0 without a forward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalizeMap } from '../maps';
import { throwIfAborted } from '../errors';
import { gaussianBlur } from '../metrics/blur';
import type { RegionContext, RegionResult, RegionVariant } from './region';
import { regionMethod } from './method';

export const GROUP_CAM_GROUPS = 32;

/** Channel ranges [start, end) of torch.chunk(K, G). */
export function channelGroups(K: number, G: number = GROUP_CAM_GROUPS): [number, number][] {
  const size = Math.ceil(K / G);
  const out: [number, number][] = [];
  for (let s = 0; s < K; s += size) out.push([s, Math.min(K, s + size)]);
  return out;
}

async function download(t: tf.Tensor): Promise<Float32Array> {
  const d = (await t.data()) as Float32Array;
  t.dispose();
  return d;
}

export async function groupCamRun(ctx: RegionContext, variant: RegionVariant): Promise<RegionResult> {
  const { A, x, inputSize, classIndex: c } = ctx;
  const [, h, w, K] = A.shape;
  const [H, W] = inputSize;
  const groups = channelGroups(K);
  const G = groups.length;
  const reference = variant === 'reference';
  const g = await ctx.gradients();
  throwIfAborted(ctx.signal);

  // U [G, H, W, 1] (ReLU'd group maps, upsampled) and Û, kept for the whole run (G·H·W floats).
  const { U, Un } = tf.tidy(() => {
    const alpha = tf.mean(g, [0, 1, 2]);
    const weighted = tf.reshape(tf.mul(A, alpha), [h, w, K]);
    const M = tf.stack(groups.map(([s, e]) => tf.relu(tf.sum(tf.slice(weighted, [0, 0, s], [h, w, e - s]), -1))));
    const Ug = tf.image.resizeBilinear(tf.reshape(M, [G, h, w, 1]) as tf.Tensor4D, [H, W], false, true);
    const shifted = tf.sub(Ug, tf.min(Ug, [1, 2, 3], true));
    const range = tf.max(shifted, [1, 2, 3], true);
    const normed = reference
      ? tf.where(tf.greater(range, 0), tf.div(shifted, tf.where(tf.greater(range, 0), range, tf.onesLike(range))), shifted)
      : tf.div(shifted, tf.add(range, 1e-8));
    return { U: Ug, Un: normed as tf.Tensor4D };
  });
  const blurred = gaussianBlur(x, { kernelSize: 51, sigma: reference ? 25 : 50 });
  try {
    const maxes = await download(tf.max(Un, [1, 2, 3]));
    const active = Array.from({ length: G }, (_, l) => l).filter((l) => maxes[l] > 0);
    const scores = new Float32Array(G);
    const prob = (t: tf.Tensor4D) => tf.reshape(tf.slice(tf.softmax(ctx.logits(t)), [0, c], [-1, 1]), [-1]);
    const pBlur = (await download(tf.tidy(() => prob(blurred))))[0];
    let forwardPasses = 1;
    const B = Math.max(1, Math.floor(ctx.batchSize));
    for (let i = 0; i < active.length; i += B) {
      throwIfAborted(ctx.signal);
      const ids = active.slice(i, i + B);
      const p = await download(
        tf.tidy(() => {
          const m = tf.gather(Un, tf.tensor1d(ids, 'int32'));
          return prob(tf.add(tf.mul(m, x), tf.mul(tf.sub(1, m), blurred)) as tf.Tensor4D);
        }),
      );
      ids.forEach((l, j) => (scores[l] = Math.max(0, p[j] - pBlur)));
      forwardPasses += ids.length;
      ctx.onProgress?.({ done: Math.min(i + B, active.length), total: active.length });
    }
    throwIfAborted(ctx.signal);
    const sum = await download(
      tf.tidy(() => {
        const s = tf.reshape(tf.tensor1d(scores), [G, 1, 1, 1]);
        const total = tf.sum(tf.mul(reference ? Un : U, s), 0);
        return reference ? tf.relu(total) : total;
      }),
    );
    const map = normalizeMap(sum, reference ? 'reference' : 'xplain');
    return { map, scores, forwardPasses, constantChannels: G - active.length };
  } finally {
    U.dispose();
    Un.dispose();
    blurred.dispose();
  }
}

export const groupCam = regionMethod({
  id: 'groupcam',
  label: 'Group-CAM',
  family: 'region',
  needs: { gradients: true, forwardPasses: true },
  run: groupCamRun,
});
