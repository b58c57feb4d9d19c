/**
 * Engine-level measurements shared by the Node benchmark (scripts/bench-node.ts) and the in-page
 * browser benchmark (bench/page.ts). No Node or DOM APIs here: only the engine and tfjs.
 *
 * Every timed call ends with a read-back of its result (`await t.data()`), so asynchronous
 * backends (WebGL) are timed to completion, as a user would wait for them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_FUSION_PARAMS, ExplanationSession, type CamModel, type RegionVariant } from '../src/engine/index';

export interface Stats {
  median: number;
  p95: number;
  min: number;
  max: number;
  n: number;
}

/** numpy-style linear percentile of a sample. */
export function percentile(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const r = (q / 100) * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return s[lo] + (r - lo) * (s[hi] - s[lo]);
}

const percentileOf = percentile;

export function stats(samples: number[]): Stats {
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    median: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    min: round(Math.min(...samples)),
    max: round(Math.max(...samples)),
    n: samples.length,
  };
}

/** Times `fn` `repeats` times after `warmup` untimed calls. */
export async function timeIt(fn: (i: number) => Promise<unknown> | unknown, repeats: number, warmup = 1): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}

export interface EngineBenchOptions {
  /** Batch sizes for the forward-pass table. */
  batchSizes: number[];
  /** Repeats for the cheap measurements (forward passes, Grad-CAM, θ, τ). */
  repeats: number;
  /** Repeats of Score-CAM (default variant) and Fusion-CAM end to end. */
  heavyRepeats: number;
  /** Score-CAM variants timed (the first one `heavyRepeats` times, the others once). */
  variants: RegionVariant[];
  /** Batch size Score-CAM uses (the floor is measured at this size too). */
  scoreCamBatch: number;
  /** Full Fusion-CAM runs for the tensor-growth check (0: skip). */
  leakRuns: number;
  /** Skip Score-CAM and everything that needs it (e.g. 0.75 on SwiftShader WebGL). */
  skipScoreCam?: boolean;
  /** Also time the layer-by-layer forward (the path before the fused rewrite). */
  layerPath?: boolean;
  log?(msg: string): void;
  /** Process CPU time in ms (Node: process.cpuUsage), for a ratio that a busy machine does not skew. */
  cpuTime?(): number;
}

export interface EngineBenchResult {
  classIndex: number;
  label: string;
  channels: number;
  forward: {
    batch1: Stats;
    /** ms per batch of B (fused forward, as Score-CAM runs it) */
    batchB: Record<string, Stats & { perImage: number }>;
    /** the layer-by-layer path, for comparison */
    layerPath?: { batch1: Stats; batchB: Stats & { perImage: number; B: number } };
  };
  sessionCreate: Stats;
  gradCam: Stats;
  scoreCam?: Record<string, Stats & { forwardPasses: number; constantChannels: number; batchSize: number }>;
  floor?: {
    batchSize: number;
    /** K/B · t(batch B), K = channels */
    ms: number;
    /** Score-CAM (first variant) median ÷ floor */
    ratio: number;
    /** the same with the passes actually run (active channels + shared baseline) */
    msPassesRun: number;
    ratioPassesRun: number;
    /** median over Score-CAM runs of (run time ÷ floor from batches timed right before and after it) */
    ratioPaired: number;
    /** the same ratio in process CPU time (Node only) */
    ratioCpu?: number;
  };
  fusionEndToEnd?: Stats;
  thetaRerun?: Stats & { forwardPassesPerChange: number };
  tau?: Stats;
  tensors?: { runs: number; before: number; after: number; bytesBefore: number; bytesAfter: number };
  notes: string[];
}

/** Random input-space batch in [−1, 1] (the forward cost does not depend on the values). */
function randomBatch(B: number, size: [number, number]): tf.Tensor4D {
  return tf.randomUniform([B, size[0], size[1], 3], -1, 1, 'float32', 42) as tf.Tensor4D;
}

async function forwardOnce(cm: CamModel, x: tf.Tensor4D): Promise<void> {
  const z = cm.logits(x);
  await z.data();
  z.dispose();
}

export async function benchEngine(cm: CamModel, input: Float32Array, o: EngineBenchOptions): Promise<EngineBenchResult> {
  const log = o.log ?? (() => {});
  const notes: string[] = [];
  const size = cm.inputSize;

  // Forward passes (fused, as logits() runs them).
  const x1 = randomBatch(1, size);
  const batch1 = await timeIt(() => forwardOnce(cm, x1), o.repeats, 2);
  log(`batch-1 forward ${batch1.median} ms`);
  const batchB: EngineBenchResult['forward']['batchB'] = {};
  for (const B of o.batchSizes) {
    const xb = randomBatch(B, size);
    const reps = B >= 32 ? Math.max(2, Math.ceil(o.repeats / 3)) : o.repeats;
    const s = await timeIt(() => forwardOnce(cm, xb), reps, 1);
    batchB[B] = { ...s, perImage: Math.round((s.median / B) * 100) / 100 };
    xb.dispose();
    log(`batch-${B} forward ${s.median} ms (${batchB[B].perImage} ms/image)`);
  }
  let layerPath: EngineBenchResult['forward']['layerPath'];
  if (o.layerPath) {
    cm.useFusedForward = false;
    const b1 = await timeIt(() => forwardOnce(cm, x1), o.repeats, 1);
    const B = o.scoreCamBatch;
    const xb = randomBatch(B, size);
    const bb = await timeIt(() => forwardOnce(cm, xb), Math.max(2, Math.ceil(o.repeats / 3)), 1);
    xb.dispose();
    cm.useFusedForward = true;
    layerPath = { batch1: b1, batchB: { ...bb, perImage: Math.round((bb.median / B) * 100) / 100, B } };
    log(`layer path: batch-1 ${b1.median} ms, batch-${B} ${bb.median} ms`);
  }
  x1.dispose();

  // A session per image: activations + logits (one forward), then Grad-CAM (one backward).
  const sessionCreate = await timeIt(async () => (await ExplanationSession.create(cm, input)).dispose(), o.repeats, 1);
  const probe = await ExplanationSession.create(cm, input);
  const c = probe.predictedClass;
  const label = cm.label(c);
  const K = probe.A.shape[3];
  probe.dispose();
  // Grad-CAM on a fresh session each time (one backward pass + the map); first call warms up.
  const gradSamples: number[] = [];
  for (let i = -1; i < o.repeats; i++) {
    const s = await ExplanationSession.create(cm, input);
    const t0 = performance.now();
    await s.gradientMap(c);
    if (i >= 0) gradSamples.push(performance.now() - t0);
    s.dispose();
  }
  const gradCam = stats(gradSamples);
  log(`Grad-CAM ${gradCam.median} ms`);

  const result: EngineBenchResult = {
    classIndex: c,
    label,
    channels: K,
    forward: { batch1, batchB, layerPath },
    sessionCreate,
    gradCam,
    notes,
  };
  if (o.skipScoreCam) {
    notes.push('Score-CAM, Fusion-CAM and the floor were skipped on this backend/model (too slow to measure here).');
    return result;
  }

  // Score-CAM per variant, each on a fresh session (its caches would make a repeat free).
  // The baseline pass is part of the session's work, so it is inside the timing.
  const scoreCam: NonNullable<EngineBenchResult['scoreCam']> = {};
  const cpuSamples: number[] = [];
  // A busy machine drifts: batch-B forwards timed right before and after each Score-CAM run
  // give a floor for that run, and the ratio is the median of the per-run ratios.
  const pairedFloor: number[][] = [];
  const firstSamples: number[] = [];
  const xPair = randomBatch(o.scoreCamBatch, size);
  const batchTimes = async (n: number) => {
    const t: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await forwardOnce(cm, xPair);
      t.push(performance.now() - t0);
    }
    return t;
  };
  for (const [vi, variant] of o.variants.entries()) {
    const samples: number[] = [];
    let passes = 0;
    let constant = 0;
    const reps = vi === 0 ? o.heavyRepeats : 1;
    for (let i = 0; i < reps; i++) {
      if (vi === 0) pairedFloor.push(await batchTimes(3));
      const s = await ExplanationSession.create(cm, input);
      const c0 = o.cpuTime?.() ?? 0;
      const t0 = performance.now();
      const r = await s.regionMap(c, { variant, batchSize: o.scoreCamBatch });
      samples.push(performance.now() - t0);
      if (vi === 0) {
        cpuSamples.push((o.cpuTime?.() ?? 0) - c0);
        pairedFloor[pairedFloor.length - 1].push(...(await batchTimes(3)));
      }
      passes = r.forwardPasses;
      constant = r.constantChannels;
      s.dispose();
    }
    if (vi === 0) firstSamples.push(...samples);
    scoreCam[variant] = { ...stats(samples), forwardPasses: passes, constantChannels: constant, batchSize: o.scoreCamBatch };
    log(`Score-CAM ${variant}: ${scoreCam[variant].median} ms, ${passes} passes (${constant} constant channels)`);
  }
  result.scoreCam = scoreCam;
  xPair.dispose();

  // The floor: K/B batch-B forward passes of the same model, measured now (same machine state).
  const B = o.scoreCamBatch;
  const xb = randomBatch(B, size);
  const cpuB: number[] = [];
  const tB = await timeIt(
    async () => {
      const c0 = o.cpuTime?.() ?? 0;
      await forwardOnce(cm, xb);
      cpuB.push((o.cpuTime?.() ?? 0) - c0);
    },
    Math.max(3, o.repeats),
    1,
  );
  xb.dispose();
  const first = scoreCam[o.variants[0]];
  const floorMs = (K / B) * tB.median;
  const run = first.forwardPasses;
  const floorRun = (run / B) * tB.median;
  result.floor = {
    batchSize: B,
    ms: Math.round(floorMs),
    ratio: Math.round((first.median / floorMs) * 1000) / 1000,
    msPassesRun: Math.round(floorRun),
    ratioPassesRun: Math.round((first.median / floorRun) * 1000) / 1000,
    ratioPaired: Math.round(percentileOf(firstSamples.map((sc, i) => sc / ((K / B) * percentileOf(pairedFloor[i], 50))), 50) * 1000) / 1000,
  };
  if (o.cpuTime) {
    const floorCpu = (K / B) * stats(cpuB.slice(1)).median;
    result.floor.ratioCpu = Math.round((stats(cpuSamples).median / floorCpu) * 1000) / 1000;
  }
  log(`floor ${result.floor.ms} ms → ratio ${result.floor.ratio} (paired: ${result.floor.ratioPaired}; passes run: ${result.floor.ratioPassesRun}; cpu time: ${result.floor.ratioCpu ?? '–'})`);

  // Fusion-CAM end to end from the model-input image: session, Grad-CAM, Score-CAM, 4 passes, fusion.
  let kept: ExplanationSession | undefined;
  const fusionRun = async (keep = false) => {
    const s = await ExplanationSession.create(cm, input);
    const f = await s.fusion(s.predictedClass, DEFAULT_FUSION_PARAMS, { batchSize: B });
    if (keep) kept = s;
    else s.dispose();
    return f;
  };
  result.fusionEndToEnd = await timeIt((i) => fusionRun(i === o.heavyRepeats - 1), o.heavyRepeats, 0);
  log(`Fusion-CAM end to end ${result.fusionEndToEnd.median} ms`);

  // θ and τ on the session that has just run: θ costs two forward passes, τ none.
  const s = kept!;
  const passes0 = s.forwardPasses;
  const thetas = Array.from({ length: o.repeats + 1 }, (_, i) => 11 + i * 3);
  const thetaRerun = await timeIt((i) => s.fusion(c, { ...DEFAULT_FUSION_PARAMS, theta: thetas[i + 1] }), o.repeats, 1);
  const perChange = (s.forwardPasses - passes0) / (o.repeats + 1);
  result.thetaRerun = { ...thetaRerun, forwardPassesPerChange: perChange };
  const passes1 = s.forwardPasses;
  result.tau = await timeIt((i) => s.fusion(c, { ...DEFAULT_FUSION_PARAMS, tau: 0.2 + 0.05 * (i + 2) }), o.repeats * 3, 2);
  if (s.forwardPasses !== passes1) notes.push(`τ changes ran ${s.forwardPasses - passes1} forward passes (expected 0).`);
  s.dispose();
  log(`θ re-run ${result.thetaRerun.median} ms (${perChange} passes), τ ${result.tau.median} ms`);

  if (o.leakRuns > 0) {
    // (warm: Fusion-CAM has run above)
    const m0 = tf.memory();
    for (let i = 0; i < o.leakRuns; i++) await fusionRun();
    const m1 = tf.memory();
    result.tensors = { runs: o.leakRuns, before: m0.numTensors, after: m1.numTensors, bytesBefore: m0.numBytes, bytesAfter: m1.numBytes };
    log(`tensors over ${o.leakRuns} runs: ${m0.numTensors} → ${m1.numTensors}`);
  }
  return result;
}
