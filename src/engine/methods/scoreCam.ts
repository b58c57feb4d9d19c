/**
 * Score-CAM (spec §2) in its three named variants. One forward pass per channel, batched; the
 * masks are built on the device one batch at a time, so at most `batchSize` masked images
 * exist at once. Channels whose mask is all zeros all give x ⊙ 0 = x_b, so they share the one
 * baseline pass the session computes anyway.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalizeMap } from '../maps';
import { throwIfAborted } from '../errors';
import { MaskedInputBuilder } from './maskedInputs';
import { softmaxAt, type RegionCamMethod, type RegionContext, type RegionResult, type RegionVariant } from './region';

/** The score s_k of one batch of masked inputs: logit (reference) or probability. */
function scoreBatch(ctx: RegionContext, maskedInputs: tf.Tensor4D, variant: RegionVariant): tf.Tensor1D {
  return tf.tidy(() => {
    const z = ctx.logits(maskedInputs);
    const s = variant === 'reference' ? z : tf.softmax(z);
    return tf.reshape(tf.slice(s, [0, ctx.classIndex], [-1, 1]), [-1]) as tf.Tensor1D;
  });
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

/** One macrotask turn (a MessageChannel message: no 4 ms timer clamp). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

/**
 * Score-CAM scores s_k of the given channels only (the remote half of a two-worker run): the
 * same masks and the same scoring as scoreCamRun, batch by batch.
 */
export async function scoreCamChannelScores(ctx: RegionContext, variant: RegionVariant, channels: number[]): Promise<Float32Array> {
  const out = new Float32Array(channels.length);
  const B = Math.max(1, Math.floor(ctx.batchSize));
  const masked = new MaskedInputBuilder(ctx.x, ctx.A, variant === 'xplain' ? 'before-upsampling' : 'after-upsampling');
  try {
    for (let start = 0; start < channels.length; start += B) {
      throwIfAborted(ctx.signal);
      const s = tf.tidy(() => scoreBatch(ctx, masked.maskedInputs(channels.slice(start, start + B)), variant));
      out.set(await s.data(), start);
      s.dispose();
    }
  } finally {
    masked.dispose();
  }
  return out;
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

  if (nConstant > 0 && variant !== 'original') {
    const zb = await ctx.baselineLogits();
    const sb = variant === 'reference' ? zb[ctx.classIndex] : softmaxAt(zb, ctx.classIndex);
    for (let k = 0; k < K; k++) if (constant[k]) {
      scores[k] = sb;
      scored[k] = true;
    }
    forwardPasses += 1;
  }

  const partial = () => combine(A, channelWeights(scores, used.map((u, k) => u && scored[k]), variant), inputSize, variant);
  const B = Math.max(1, Math.floor(ctx.batchSize));
  const record = (channels: number[], values: ArrayLike<number>) =>
    channels.forEach((k, i) => {
      scores[k] = values[i];
      scored[k] = true;
    });
  let done = 0;
  const report = () => ctx.onProgress?.({ done, total: active.length, partial });
  // the channels still to score are active[front, back): this thread takes from the front, a
  // remote scorer (if any) from the back, until the two meet. Two remote batches are kept in
  // flight: a reply is only read when this thread's own batch ends, and with one in flight the
  // remote would sit idle until then
  let front = 0;
  let back = active.length;
  const REMOTE_IN_FLIGHT = 2;
  const remote = new Set<Promise<void>>();
  let remoteFailed = false;
  let remotePasses = 0;
  const leftovers: number[] = [];
  let stopped = false;
  const launchRemote = () => {
    // (stopped: after an abort, a late reply must not start more work on the helper)
    while (ctx.remoteScores && !stopped && !remoteFailed && remote.size < REMOTE_IN_FLIGHT && back - front > B) {
      const channels = active.slice(back - B, back);
      back -= B;
      const job: Promise<void> = ctx.remoteScores(channels).then(
        (values) => {
          remote.delete(job);
          record(channels, values);
          forwardPasses += channels.length;
          remotePasses += channels.length;
          done += channels.length;
          launchRemote();
        },
        () => {
          // the helper is gone (or failed): this thread scores its share
          remote.delete(job);
          remoteFailed = true;
          leftovers.push(...channels);
        },
      );
      remote.add(job);
    }
  };
  // x ⊙ H_k for a batch in a few large ops (see maskedInputs.ts); at most B masked images exist at once
  const masked = new MaskedInputBuilder(ctx.x, A, variant === 'xplain' ? 'before-upsampling' : 'after-upsampling');
  try {
    for (;;) {
      throwIfAborted(ctx.signal);
      launchRemote();
      let channels: number[];
      if (front < back) {
        channels = active.slice(front, Math.min(front + B, back));
        front += channels.length;
      } else if (leftovers.length > 0) {
        channels = leftovers.splice(0, B);
      } else if (remote.size > 0) {
        await Promise.race(remote);
        report();
        continue;
      } else break;
      const s = tf.tidy(() => scoreBatch(ctx, masked.maskedInputs(channels), variant));
      const values = await s.data();
      s.dispose();
      record(channels, values);
      forwardPasses += channels.length;
      done += channels.length;
      report();
      // wasm's data() resolves in a microtask: without a real yield the remote replies would
      // wait in the event queue until this loop ends
      if (ctx.remoteScores && !remoteFailed) await yieldToEventLoop();
    }
  } finally {
    stopped = true;
    masked.dispose();
  }
  throwIfAborted(ctx.signal);
  const map = await combine(A, channelWeights(scores, used, variant), inputSize, variant);
  return { map, scores, forwardPasses, constantChannels: nConstant, ...(ctx.remoteScores ? { info: { remotePasses } } : {}) };
}

export const scoreCam: RegionCamMethod = {
  id: 'scorecam',
  label: 'Score-CAM',
  run: scoreCamRun,
};
