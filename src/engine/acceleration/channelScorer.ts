/**
 * The accelerating scorer behind RegionContext.scoreChannelMasks: it scores masked inputs x ⊙ H_k
 * batch by batch on this engine and, when a helper engine (a second worker or thread holding the
 * same model, image and layer) is offered, shares the channels with it: this engine takes
 * batches from the front of the order, the helper from the back, until they meet. The methods
 * never see this: they ask for scores and hear each batch as it ends.
 */
import * as tf from '@tensorflow/tfjs-core';
import { throwIfAborted } from '../errors';
import { MaskedInputBuilder } from '../methods/maskedInputs';
import type { ChannelMaskScoring } from '../methods/region';

export type ChannelScores = (channels: number[]) => Promise<Float32Array>;
export type OnScoredBatch = (channels: number[], values: ArrayLike<number>) => void;

/** What a session hands the scorer: the image, the layer and the forward pass. */
export interface ScoringEngine {
  x: tf.Tensor4D;
  A: tf.Tensor4D;
  classIndex: number;
  logits(x: tf.Tensor4D): tf.Tensor2D;
}

/** s_c of one batch of masked inputs: the logit or the probability of class c. */
function scoreBatch(engine: ScoringEngine, maskedInputs: tf.Tensor4D, score: ChannelMaskScoring['score']): tf.Tensor1D {
  return tf.tidy(() => {
    const z = engine.logits(maskedInputs);
    const s = score === 'logit' ? z : tf.softmax(z);
    return tf.reshape(tf.slice(s, [0, engine.classIndex], [-1, 1]), [-1]) as tf.Tensor1D;
  });
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

/** Scores of the given channels on this engine only, batch by batch (what a helper engine runs for another). */
export async function scoreChannelsHere(engine: ScoringEngine, scoring: ChannelMaskScoring, channels: number[], batchSize: number, signal?: AbortSignal): Promise<Float32Array> {
  const out = new Float32Array(channels.length);
  const B = Math.max(1, Math.floor(batchSize));
  const masked = new MaskedInputBuilder(engine.x, engine.A, scoring.normalise);
  try {
    for (let start = 0; start < channels.length; start += B) {
      throwIfAborted(signal);
      const s = tf.tidy(() => scoreBatch(engine, masked.maskedInputs(channels.slice(start, start + B)), scoring.score));
      out.set(await s.data(), start);
      s.dispose();
    }
  } finally {
    masked.dispose();
  }
  return out;
}

export interface SharedScoringOptions {
  batchSize: number;
  signal?: AbortSignal;
  /** Scores of a batch computed by the helper engine; absent: everything runs here. */
  helper?: ChannelScores;
}

/**
 * Scores every channel once, here and (if offered) on the helper; `onBatch` hears each batch.
 * Resolves with the number of channels the helper scored. A helper that fails leaves its
 * batches to this engine; after an abort no more helper work is started.
 */
export async function scoreChannelsShared(engine: ScoringEngine, scoring: ChannelMaskScoring, channels: number[], onBatch: OnScoredBatch, opts: SharedScoringOptions): Promise<number> {
  const B = Math.max(1, Math.floor(opts.batchSize));
  const { helper, signal } = opts;
  // the channels still to score are channels[front, back). Two helper batches are kept in
  // flight: a reply is only read when this engine's own batch ends, and with one in flight the
  // helper would sit idle until then
  let front = 0;
  let back = channels.length;
  const HELPER_IN_FLIGHT = 2;
  const inFlight = new Set<Promise<void>>();
  let helperFailed = false;
  let helperPasses = 0;
  const leftovers: number[] = [];
  let stopped = false;
  const launchHelper = () => {
    // (stopped: after an abort, a late reply must not start more work on the helper)
    while (helper && !stopped && !helperFailed && inFlight.size < HELPER_IN_FLIGHT && back - front > B) {
      const batch = channels.slice(back - B, back);
      back -= B;
      const job: Promise<void> = helper(batch).then(
        (values) => {
          inFlight.delete(job);
          helperPasses += batch.length;
          onBatch(batch, values);
          launchHelper();
        },
        () => {
          // the helper is gone (or failed): this engine scores its share
          inFlight.delete(job);
          helperFailed = true;
          leftovers.push(...batch);
        },
      );
      inFlight.add(job);
    }
  };
  // x ⊙ H_k for a batch in a few large ops (see maskedInputs.ts); at most B masked images exist at once
  const masked = new MaskedInputBuilder(engine.x, engine.A, scoring.normalise);
  try {
    for (;;) {
      throwIfAborted(signal);
      launchHelper();
      let batch: number[];
      if (front < back) {
        batch = channels.slice(front, Math.min(front + B, back));
        front += batch.length;
      } else if (leftovers.length > 0) {
        batch = leftovers.splice(0, B);
      } else if (inFlight.size > 0) {
        await Promise.race(inFlight);
        continue;
      } else break;
      const s = tf.tidy(() => scoreBatch(engine, masked.maskedInputs(batch), scoring.score));
      const values = await s.data();
      s.dispose();
      onBatch(batch, values);
      // wasm's data() resolves in a microtask: without a real yield the helper's replies would
      // wait in the event queue until this loop ends
      if (helper && !helperFailed) await yieldToEventLoop();
    }
  } finally {
    stopped = true;
    masked.dispose();
  }
  return helperPasses;
}
