/**
 * Ablation-CAM (Desai & Ramaswamy 2020; docs/method.md §2): w_k = (z_c − z_c[A_k := 0])/(z_c + 1e-8), with
 * logits and channel k zeroed at the target layer, then L = N(Up(ReLU(Σ_k w_k A_k))). Only the
 * head runs (K head passes, batched: one ablated copy of A per channel in the batch).
 * Normalisation: reference divides by max only if > 0; xplain / original (xplain's code)
 * divide by (max − min) when it exceeds 1e-8, else the map is all zero.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalizeMap } from '../maps';
import { throwIfAborted } from '../errors';
import { reluUpsample } from './featureMap';
import type { RegionContext, RegionResult, RegionVariant } from './region';
import { regionMethod } from './method';

function normalizeAblation(map: Float32Array, variant: RegionVariant): Float32Array {
  if (variant === 'reference') return normalizeMap(map, 'reference');
  let mn = Infinity;
  let mx = -Infinity;
  for (const v of map) {
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const out = new Float32Array(map.length);
  if (mx - mn > 1e-8) for (let i = 0; i < map.length; i++) out[i] = (map[i] - mn) / (mx - mn);
  return out;
}

export async function ablationCamRun(ctx: RegionContext, variant: RegionVariant): Promise<RegionResult> {
  const { A, inputSize, classIndex: c } = ctx;
  const [, h, w, K] = A.shape;
  const zc = ctx.imageLogits[c];
  const order = ctx.channelOrder ?? Array.from({ length: K }, (_, k) => k);
  const weights = new Float32Array(K);
  const B = Math.max(1, Math.floor(ctx.batchSize));
  for (let i = 0; i < K; i += B) {
    throwIfAborted(ctx.signal);
    const channels = order.slice(i, i + B);
    const z = tf.tidy(() => {
      // keep[j, k] = 0 for the channel ablated in batch row j (built in JS: wasm's float32 OneHot writes int bits)
      const keep = new Float32Array(channels.length * K).fill(1);
      channels.forEach((k, j) => (keep[j * K + k] = 0));
      const ablated = tf.mul(A, tf.tensor4d(keep, [channels.length, 1, 1, K])) as tf.Tensor4D;
      return tf.reshape(tf.slice(ctx.head(ablated), [0, c], [-1, 1]), [-1]);
    });
    const zk = await z.data();
    z.dispose();
    channels.forEach((k, j) => (weights[k] = (zc - zk[j]) / (zc + 1e-8)));
    ctx.onProgress?.({ done: Math.min(i + B, K), total: K });
  }
  throwIfAborted(ctx.signal);
  const sal = tf.tidy(() => tf.sum(tf.mul(tf.reshape(A, [h, w, K]), tf.tensor1d(weights)), -1) as tf.Tensor2D);
  const up = await reluUpsample(sal, inputSize);
  sal.dispose();
  return { map: normalizeAblation(up, variant), scores: weights, forwardPasses: K, constantChannels: 0 };
}

export const ablationCam = regionMethod({
  id: 'ablationcam',
  label: 'Ablation-CAM',
  family: 'region',
  needs: { gradients: false, forwardPasses: true },
  run: ablationCamRun,
});
