/**
 * Score-CAM (Wang et al. 2020; docs/method.md §2) in its three named variants:
 *   reference: U_k = Up(A_k), H_k = N(U_k), s_k = z_c(x ⊙ H_k), w = softmax_k(s), L = N(ReLU(Σ_k w_k U_k));
 *   xplain:    H_k = Up(N(A_k)), s_k = p_c(x ⊙ H_k), L = N(ReLU(Σ_k s_k H_k));
 *   original:  as reference's masks, s_k = p_c(x ⊙ H_k), constant channels skipped, L = N(ReLU(Σ_k s_k U_k)).
 * One masked forward pass per channel, asked of ctx.scoreChannelMasks. Channels whose mask is
 * all zeros all give x ⊙ 0 = x_b, so they share the one baseline pass the context has anyway.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalizeMap } from '../maps';
import { throwIfAborted } from '../errors';
import { softmaxAt, type ChannelMaskScoring, type RegionContext, type RegionResult, type RegionVariant } from './region';
import { regionMethod } from './method';

/** How the variant makes H_k and scores x ⊙ H_k: reference logits of N(Up(A_k)), xplain probabilities of Up(N(A_k)), original probabilities of N(Up(A_k)). */
export function scoreCamScoring(variant: RegionVariant): ChannelMaskScoring {
  return { normalise: variant === 'xplain' ? 'before-upsampling' : 'after-upsampling', score: variant === 'reference' ? 'logit' : 'probability' };
}

/** Combination weights per channel from the scores (and which channels take part). */
function channelWeights(scores: Float32Array, used: boolean[], variant: RegionVariant): Float32Array {
  const w = new Float32Array(scores.length);
  if (variant === 'reference') {
    // softmax across channels of the raw logits (max-shifted, as the reference code)
    let m = -Infinity;
    for (let k = 0; k < scores.length; k++) if (used[k] && scores[k] > m) m = scores[k];
    let sum = 0;
    for (let k = 0; k < scores.length; k++) if (used[k]) sum += Math.exp(scores[k] - m);
    for (let k = 0; k < scores.length; k++) w[k] = used[k] ? Math.exp(scores[k] - m) / sum : 0;
  } else {
    for (let k = 0; k < scores.length; k++) w[k] = used[k] ? scores[k] : 0;
  }
  return w;
}

/** L_r from weights: Σ_k w_k U_k = Up(Σ_k w_k A_k) since Up is linear (xplain: Σ_k w_k Up(N(A_k))). */
async function combine(A: tf.Tensor4D, weights: Float32Array, size: [number, number], variant: RegionVariant): Promise<Float32Array> {
  const sal = tf.tidy(() => {
    const [, h, w, K] = A.shape;
    let maps = tf.reshape(A, [h, w, K]);
    if (variant === 'xplain') {
      const mn = tf.min(maps, [0, 1], true);
      const mx = tf.max(maps, [0, 1], true);
      maps = tf.div(tf.sub(maps, mn), tf.add(tf.sub(mx, mn), 1e-8));
    }
    return tf.sum(tf.mul(maps, tf.tensor1d(weights)), -1) as tf.Tensor2D;
  });
  // ReLU after the upsampling, as the spec and the reference code: ReLU(Σ_k w_k U_k). With
  // negative activations (a pre-ReLU layer) ReLU-then-Up would differ.
  const upT = tf.tidy(() => tf.relu(tf.image.resizeBilinear(tf.reshape(sal, [1, sal.shape[0], sal.shape[1], 1]) as tf.Tensor4D, size, false, true)));
  sal.dispose();
  const up = (await upT.data()) as Float32Array;
  upT.dispose();
  return normalizeMap(up, variant === 'xplain' ? 'xplain' : 'reference');
}

export async function scoreCamRun(ctx: RegionContext, variant: RegionVariant): Promise<RegionResult> {
  const { A, inputSize } = ctx;
  const K = A.shape[3];
  const [mins, maxs] = await Promise.all(
    tf.tidy(() => [tf.min(A, [0, 1, 2]), tf.max(A, [0, 1, 2])]).map(async (t) => {
      const d = await t.data();
      t.dispose();
      return d;
    }),
  );
  const constant = Array.from({ length: K }, (_, k) => !(maxs[k] > mins[k]));
  const order = ctx.channelOrder ?? Array.from({ length: K }, (_, k) => k);
  const active = order.filter((k) => !constant[k]);
  const nConstant = K - active.length;
  const scores = new Float32Array(K);
  const scored = new Array<boolean>(K).fill(false);
  // Channels that take part in the sum: the original code skips constant ones.
  const used = constant.map((c) => !(c && variant === 'original'));
  let forwardPasses = 0;
  let baselinePasses = 0;

  // a constant channel's mask is all zeros: x ⊙ 0 = x_b, scored by the one baseline pass
  if (nConstant > 0 && variant !== 'original') {
    const zb = await ctx.baselineLogits();
    const sb = variant === 'reference' ? zb[ctx.classIndex] : softmaxAt(zb, ctx.classIndex);
    for (let k = 0; k < K; k++) if (constant[k]) {
      scores[k] = sb;
      scored[k] = true;
    }
    forwardPasses += 1;
    baselinePasses = 1;
  }

  const partial = () => combine(A, channelWeights(scores, used.map((u, k) => u && scored[k]), variant), inputSize, variant);
  let done = 0;
  await ctx.scoreChannelMasks(active, scoreCamScoring(variant), (channels, values) => {
    channels.forEach((k, i) => {
      scores[k] = values[i];
      scored[k] = true;
    });
    forwardPasses += channels.length;
    done += channels.length;
    ctx.onProgress?.({ done, total: active.length, partial });
  });
  throwIfAborted(ctx.signal);
  const map = await combine(A, channelWeights(scores, used, variant), inputSize, variant);
  return { map, scores, forwardPasses, baselinePasses, constantChannels: nConstant };
}

export const scoreCam = regionMethod({
  id: 'scorecam',
  label: 'Score-CAM',
  family: 'region',
  needs: { gradients: false, forwardPasses: true },
  run: scoreCamRun,
});
