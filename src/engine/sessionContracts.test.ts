/**
 * The session's contracts beyond the numbers: forward-pass accounting and caching (τ costs 0
 * passes, θ costs 2, Score-CAM costs K minus constant channels plus one shared baseline),
 * degenerate classes, cancellation, errors, and no tensor leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ExplanationSession } from './session';
import { CamError } from './errors';
import type { CamModel } from './model/camModel';
import type { RegionProgress } from './methods/region';
import { camModelFor, liveTensors, useCpuBackend } from '../test-utils/setup';
import { jsActivation, jsLogits, type NetSpec } from '../test-utils/jsnet';
import { randomInput, sequentialNet, skipNet, softmaxNet, toFloat32 } from '../test-utils/tinyNets';
import * as ref from '../test-utils/camReference';
import type { FusionParams } from './fusion';

beforeAll(useCpuBackend);

const x = randomInput(31);
const input = toFloat32(x);

/** conv2 channels 0 and 3 are all zero after the ReLU, channel 5 is a constant 0.3: 3 of K = 6 constant. */
function dedupeNet(): NetSpec {
  const spec = sequentialNet();
  const w = spec.weights.get('conv2')!;
  const cout = 6;
  for (const [k, bias] of [
    [0, -0.5],
    [3, -0.5],
    [5, 0.3],
  ]) {
    for (let i = k; i < w.kernel.length; i += cout) w.kernel[i] = 0;
    w.bias[k] = bias;
  }
  return spec;
}

/** Class 0's dense weights are all negative: with A = ReLU(…) ≥ 0, its Grad-CAM is all zero. */
function negativeEvidenceNet(): NetSpec {
  const spec = sequentialNet();
  const w = spec.weights.get('logits')!;
  for (let i = 0; i < w.kernel.length; i += 5) w.kernel[i] = -Math.abs(w.kernel[i]) - 0.05;
  return spec;
}

const params = (theta: number, tau: number, variant: 'reference' | 'xplain' = 'reference'): FusionParams => ({
  theta,
  tau,
  variant,
  weights: { mode: 'auto' },
});

describe('Score-CAM dedupes constant channels (one shared baseline pass)', () => {
  let model: CamModel;
  const spec = dedupeNet();
  beforeAll(() => {
    model = camModelFor(spec);
  });
  afterAll(() => model.dispose());

  it('the test net really has 3 constant channels at relu2', () => {
    const A = jsActivation(spec, x, 'relu2');
    const constant = [0, 1, 2, 3, 4, 5].filter((k) => {
      const ch = ref.channel(A, k);
      return Math.max(...ch) === Math.min(...ch);
    });
    expect(constant).toEqual([0, 3, 5]);
  });

  it.each([1, 2, 64])('forward passes = K − constant (+1 baseline), maps exact (batch size %i)', async (batchSize) => {
    const s = await ExplanationSession.create(model, input, 'relu2');
    const c = s.predictedClass;
    expect(s.forwardPasses).toBe(1);
    const r = await s.regionMap(c, { variant: 'reference', batchSize });
    expect(r.constantChannels).toBe(3);
    expect(r.forwardPasses).toBe(3 + 1);
    expect(s.forwardPasses).toBe(1 + 4);
    const want = ref.scoreCam(spec, x, jsActivation(spec, x, 'relu2'), c, 'reference');
    expect(ref.maxAbsDiff(r.map, want.map)).toBeLessThan(1e-4);
    // the constant channels' scores are the baseline logit z_c(0), computed once
    const zb = jsLogits(spec, { shape: x.shape, data: new Float64Array(x.data.length) })[c];
    for (const k of [0, 3, 5]) expect(r.scores[k]).toBeCloseTo(zb, 4);

    // xplain: the baseline is already cached, so only the 3 active channels run
    const rx = await s.regionMap(c, { variant: 'xplain', batchSize });
    expect(rx.forwardPasses).toBe(4);
    expect(s.forwardPasses).toBe(5 + 3);
    expect(ref.maxAbsDiff(rx.map, ref.scoreCam(spec, x, jsActivation(spec, x, 'relu2'), c, 'xplain').map)).toBeLessThan(1e-4);

    // original skips constant channels altogether
    const ro = await s.regionMap(c, { variant: 'original', batchSize });
    expect(ro.forwardPasses).toBe(3);
    expect(s.forwardPasses).toBe(8 + 3);
    expect(ref.maxAbsDiff(ro.map, ref.scoreCam(spec, x, jsActivation(spec, x, 'relu2'), c, 'original').map)).toBeLessThan(1e-4);

    // cached: no further passes
    await s.regionMap(c, { variant: 'reference', batchSize });
    expect(s.forwardPasses).toBe(11);
    s.dispose();
  });

  it('reports progress up to the number of active channels; the last partial map is the final map', async () => {
    const s = await ExplanationSession.create(model, input, 'relu2');
    const seen: RegionProgress[] = [];
    const r = await s.regionMap(s.predictedClass, { batchSize: 2, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => [p.done, p.total])).toEqual([
      [2, 3],
      [3, 3],
    ]);
    expect(ref.maxAbsDiff(await seen[1].partial!(), r.map)).toBeLessThan(1e-6);
    s.dispose();
  });

  it('orderByGradient scores the channels in another order and gives the same map', async () => {
    const s = await ExplanationSession.create(model, input, 'relu2');
    const c = s.predictedClass;
    const a = await s.regionMap(c, { variant: 'xplain', batchSize: 1, orderByGradient: true });
    const want = ref.scoreCam(spec, x, jsActivation(spec, x, 'relu2'), c, 'xplain');
    expect(ref.maxAbsDiff(a.map, want.map)).toBeLessThan(1e-4);
    s.dispose();
  });
});

describe('Session caching: τ costs no forward pass, θ costs exactly two', () => {
  let model: CamModel;
  let s: ExplanationSession;
  const spec = dedupeNet();
  beforeAll(async () => {
    model = camModelFor(spec);
    s = await ExplanationSession.create(model, input, 'relu2');
  });
  afterAll(() => {
    s.dispose();
    model.dispose();
  });

  it('first run: 1 (image) + 3 active channels + 1 baseline + 3 (β_r, β_g, β_dr)', async () => {
    const c = s.predictedClass;
    await s.fusion(c, params(10, 1));
    expect(s.forwardPasses).toBe(1 + 3 + 1 + 3);
  });

  it('changing τ runs no forward pass and changes the map as step 5 says', async () => {
    const c = s.predictedClass;
    const before = s.forwardPasses;
    const a = await s.fusion(c, params(10, 1));
    const b = await s.fusion(c, params(10, 0.05));
    expect(s.forwardPasses).toBe(before);
    expect(ref.maxAbsDiff(a.map, b.map)).toBeGreaterThan(1e-3);
    expect(a.betas).toEqual(b.betas);
  });

  it('changing θ runs exactly two forward passes (β_g and β_dr); returning to a seen θ runs none', async () => {
    const c = s.predictedClass;
    for (const theta of [30, 55, 80]) {
      const before = s.forwardPasses;
      await s.fusion(c, params(theta, 1));
      expect(s.forwardPasses, `θ = ${theta}`).toBe(before + 2);
      await s.fusion(c, params(theta, 0.4));
      expect(s.forwardPasses, `θ = ${theta}, new τ`).toBe(before + 2);
    }
    const before = s.forwardPasses;
    await s.fusion(c, params(10, 0.7));
    expect(s.forwardPasses).toBe(before);
  });

  it('gradient maps run no masked forward pass', async () => {
    const before = s.forwardPasses;
    await s.gradientMap(s.predictedClass, 'gradcampp');
    expect(s.forwardPasses).toBe(before);
  });
});

describe('Degenerate class: all evidence negative', () => {
  let model: CamModel;
  const spec = negativeEvidenceNet();
  beforeAll(() => {
    model = camModelFor(spec);
  });
  afterAll(() => model.dispose());

  it('Grad-CAM is all zero: no NaN, flagged, warning reported', async () => {
    const s = await ExplanationSession.create(model, input, 'relu2');
    const g = await s.gradientMap(0);
    expect(g.allZero).toBe(true);
    expect(g.map.every((v) => v === 0)).toBe(true);
    expect(g.warnings.join('\n')).toMatch(/all zero/);
    for (const variant of ['reference', 'xplain'] as const) {
      const f = await s.fusion(0, params(10, 1, variant));
      expect(f.map.every(Number.isFinite)).toBe(true);
      expect(Object.values(f.betas).every(Number.isFinite)).toBe(true);
      expect(f.warnings.join('\n')).toMatch(/all zero/);
      // with L_g = 0 the JS reference agrees on the whole chain
      const Lr = ref.scoreCam(spec, x, jsActivation(spec, x, 'relu2'), 0, variant).map;
      const p = (M: ArrayLike<number>) => softmax0(jsLogits(spec, ref.maskInput(x, M)));
      const want = ref.fusion(new Float64Array(Lr.length), Lr, p, softmax0(jsLogits(spec, ref.maskInput(x, new Float64Array(Lr.length)))), 10, 1, variant);
      expect(ref.maxAbsDiff(f.map, want.map)).toBeLessThan(1e-4);
    }
    s.dispose();
  });
});

function softmax0(z: Float64Array): number {
  const m = Math.max(...z);
  return Math.exp(z[0] - m) / z.reduce((a, v) => a + Math.exp(v - m), 0);
}

describe('No tensor leaks', () => {
  async function fullRun(model: CamModel, layer?: string): Promise<void> {
    const s = await ExplanationSession.create(model, input, layer);
    const c = s.predictedClass;
    for (const m of ['gradcam', 'gradcampp', 'xgradcam', 'layercam'] as const) await s.gradientMap(c, m);
    for (const v of ['reference', 'xplain', 'original'] as const) await s.regionMap(c, { variant: v, batchSize: 2 });
    for (const [theta, tau] of [
      [10, 1],
      [40, 1],
      [40, 0.2],
      [0, 3],
    ])
      for (const v of ['reference', 'xplain'] as const) await s.fusion(c, params(theta, tau, v));
    await s.fusion(c, { ...params(20, 1), weights: { mode: 'manual', gradientShare: 0.4 } });
    // more than the cache's few classes of gradients
    for (let k = 0; k < model.numClasses; k++) await s.gradientMap(k);
    s.topK(3);
    s.dispose();
  }

  it.each([
    ['sequential', () => sequentialNet(), 'conv2'],
    ['skip connection', () => skipNet(), 'c2'],
    ['softmax tail', () => softmaxNet('conv-softmax-reshape'), undefined],
  ] as const)('%s net: a full run returns to the baseline count; CamModel.dispose frees the rest', async (_n, make, layer) => {
    const atStart = liveTensors();
    const model = camModelFor(make());
    await fullRun(model, layer); // warm-up: model-level lazy state (e.g. a softmax layer's linear twin)
    const baseline = liveTensors();
    await fullRun(model, layer);
    expect(liveTensors()).toBe(baseline);
    model.dispose();
    expect(liveTensors()).toBe(atStart);
  });

  it('an aborted Score-CAM rejects with AbortError, leaks nothing, and the session stays usable', async () => {
    const spec = dedupeNet();
    const model = camModelFor(spec);
    await fullRun(model, 'relu2');
    const baseline = liveTensors();
    const s = await ExplanationSession.create(model, input, 'relu2');
    const c = s.predictedClass;
    const ctl = new AbortController();
    const progress: number[] = [];
    const run = s.regionMap(c, { batchSize: 1, signal: ctl.signal, onProgress: (p) => (progress.push(p.done), ctl.abort()) });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(progress).toEqual([1]);
    // not cached as a failure: the next request computes the map
    const r = await s.regionMap(c, { batchSize: 1 });
    expect(ref.maxAbsDiff(r.map, ref.scoreCam(spec, x, jsActivation(spec, x, 'relu2'), c, 'reference').map)).toBeLessThan(1e-4);
    // a signal aborted before the start
    const pre = new AbortController();
    pre.abort();
    await expect(s.regionMap(c, { variant: 'xplain', signal: pre.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(s.fusion(c, params(10, 1, 'xplain'), { signal: pre.signal })).rejects.toMatchObject({ name: 'AbortError' });
    s.dispose();
    expect(liveTensors()).toBe(baseline);
    model.dispose();
  });

  it('errors (bad class, bad method, bad input, closed session) are clear CamErrors and leak nothing', async () => {
    const model = camModelFor(sequentialNet());
    await fullRun(model);
    const baseline = liveTensors();
    const s = await ExplanationSession.create(model, input);
    await expect(s.gradientMap(99)).rejects.toThrow(/Class index 99 is out of range: the model has classes 0–4/);
    await expect(s.gradientMap(-1)).rejects.toBeInstanceOf(CamError);
    await expect(s.gradientMap(1.5)).rejects.toBeInstanceOf(CamError);
    await expect(s.regionMap(99)).rejects.toThrow(/out of range/);
    await expect(s.fusion(5, params(10, 1))).rejects.toThrow(/out of range/);
    await expect(s.gradientMap(0, 'nope' as 'gradcam')).rejects.toThrow(/Unknown gradient method "nope"/);
    await expect(s.regionMap(0, { method: 'nope' as 'scorecam' })).rejects.toThrow(/Unknown region method "nope"/);
    await expect(s.fusion(0, params(100, 1))).rejects.toThrow(/θ/);
    await expect(s.fusion(0, params(10, 0))).rejects.toThrow(/τ/);
    s.dispose();
    await expect(s.regionMap(0)).rejects.toThrow(/closed/);
    await expect(ExplanationSession.create(model, new Float32Array(5))).rejects.toThrow(/Input has 5 values, the model needs 14×10×3/);
    const bad = Float32Array.from(input);
    bad[7] = Number.NaN;
    await expect(ExplanationSession.create(model, bad)).rejects.toThrow(/NaN/);
    await expect(ExplanationSession.create(model, input, 'gap')).rejects.toThrow(/"gap"/);
    expect(liveTensors()).toBe(baseline);
    model.dispose();
  });
});

describe('tfjs state', () => {
  it('runs on the cpu backend', () => expect(tf.getBackend()).toBe('cpu'));
});
