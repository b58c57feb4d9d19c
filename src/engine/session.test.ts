/**
 * ExplanationSession end to end on tiny random nets, against the plain-JS reference
 * (test-utils/camReference.ts): gradients by finite differences, the four gradient-family maps,
 * Score-CAM in its three variants as a naive one-channel-at-a-time loop, Fusion-CAM in both
 * variants on top. Engine and reference share no code; tolerance 1e-4 on [0, 1] maps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ExplanationSession } from './session';
import type { CamModel } from './model/camModel';
import { camModelFor, useCpuBackend } from '../test-utils/setup';
import { jsActivation, jsLogits, softmaxAt, type JsTensor, type NetSpec } from '../test-utils/jsnet';
import { randomInput, sequentialNet, skipNet, softmaxNet, toFloat32 } from '../test-utils/tinyNets';
import * as ref from '../test-utils/camReference';
import { GRADIENT_METHOD_IDS } from './methods/registry';

beforeAll(useCpuBackend);

const TOL = 1e-4;

interface Setup {
  name: string;
  spec: NetSpec;
  layers: string[];
}

const setups: Setup[] = [
  // relu2: A ≥ 0; conv2: pre-ReLU, so A has negative values; conv1: high resolution
  { name: 'sequential', spec: sequentialNet(), layers: ['relu2', 'conv2', 'conv1'] },
  // c2: the head needs c1 (skip connection) as an extra input
  { name: 'skip connection', spec: skipNet(), layers: ['sum_relu', 'c2'] },
  { name: 'Conv+softmax+Reshape tail', spec: softmaxNet('conv-activation-reshape'), layers: ['conv2'] },
  { name: 'Dense(softmax) tail', spec: softmaxNet('dense-softmax'), layers: ['conv2', 'conv1'] },
];

const x = randomInput(21);
const zeros: JsTensor = { shape: x.shape, data: new Float64Array(x.data.length) };

function argmax(z: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < z.length; i++) if (z[i] > z[b]) b = i;
  return b;
}

/** Everything the reference needs for one (net, layer, class). */
function reference(spec: NetSpec, layer: string, c: number) {
  const A = jsActivation(spec, x, layer);
  const g = ref.finiteDifferenceGradient(spec, x, layer, A, c);
  const p = (M: ArrayLike<number>) => softmaxAt(jsLogits(spec, ref.maskInput(x, M)), c);
  const pb = softmaxAt(jsLogits(spec, zeros), c);
  return { A, g, p, pb };
}

for (const { name, spec, layers } of setups) {
  describe.each(layers)(`${name} net at layer %s`, (layer) => {
    let model: CamModel;
    let session: ExplanationSession;
    const z = jsLogits(spec, x);
    const predicted = argmax(z);
    const classes = Array.from(z, (_, i) => i);
    const other = (predicted + 1) % z.length;
    const refs = new Map(classes.map((c) => [c, reference(spec, layer, c)]));

    beforeAll(async () => {
      model = camModelFor(spec);
      session = await ExplanationSession.create(model, toFloat32(x), layer);
    });
    afterAll(() => {
      session.dispose();
      model.dispose();
    });

    it('logits, probabilities, top-k and activations equal the JS forward pass', async () => {
      expect(ref.maxAbsDiff(session.logits, z)).toBeLessThan(1e-5);
      expect(session.predictedClass).toBe(predicted);
      classes.forEach((c) => expect(session.probabilities[c]).toBeCloseTo(softmaxAt(z, c), 6));
      expect(session.topK(2).map((p) => p.index)).toEqual(classes.sort((a, b) => z[b] - z[a]).slice(0, 2));
      expect(ref.maxAbsDiff(await session.A.data(), refs.get(0)!.A.data)).toBeLessThan(1e-5);
      expect(await session.baselineProbability(other)).toBeCloseTo(refs.get(other)!.pb, 6);
    });

    it('∂z_c/∂A equals central finite differences of the JS logits, for every class', async () => {
      for (const c of classes) {
        const g = await session.gradients(c).data();
        const fd = refs.get(c)!.g;
        const scale = Math.max(1, ...Array.from(fd, Math.abs));
        expect(ref.maxAbsDiff(g, fd) / scale, `class ${c}`).toBeLessThan(1e-4);
      }
    });

    // every feature-map method of the registry (the reference throws on one it does not know)
    for (const method of GRADIENT_METHOD_IDS) {
      for (const variant of ['reference', 'xplain'] as const) {
        it(`gradientMap ${method} (${variant}) equals the JS map from finite-difference gradients`, async () => {
          for (const c of classes) {
            const r = refs.get(c)!;
            const got = await session.gradientMap(c, method, variant);
            const want = ref.gradientMap(method, r.A, r.g, model.inputSize, variant);
            expect(got.map.every(Number.isFinite)).toBe(true);
            expect(ref.maxAbsDiff(got.map, want), `class ${c}`).toBeLessThan(TOL);
            expect(got.allZero).toBe(!want.some((v) => v > 0) && !ref.relu(ref.gradientSaliency(method, r.A, r.g)).some((v) => v > 0));
          }
        });
      }
    }

    for (const variant of ['reference', 'xplain', 'original'] as const) {
      it(`regionMap Score-CAM (${variant}) equals the naive one-channel-at-a-time loop`, async () => {
        for (const c of [predicted, other]) {
          const want = ref.scoreCam(spec, x, refs.get(c)!.A, c, variant);
          const got = await session.regionMap(c, { variant, batchSize: 4 });
          expect(got.map.every(Number.isFinite)).toBe(true);
          expect(ref.maxAbsDiff(got.map, want.map), `class ${c}`).toBeLessThan(TOL);
          want.scores.forEach((s, k) => {
            if (!Number.isNaN(s)) expect(got.scores[k], `class ${c} channel ${k}`).toBeCloseTo(s, 4);
          });
        }
      });
    }

    for (const variant of ['reference', 'xplain'] as const) {
      it(`fusion (${variant}) equals the JS Fusion-CAM on the JS gradient and region maps`, async () => {
        for (const c of [predicted, other]) {
          const r = refs.get(c)!;
          const Lg = ref.gradientMap('gradcam', r.A, r.g, model.inputSize, variant);
          const Lr = ref.scoreCam(spec, x, r.A, c, variant).map;
          for (const [theta, tau] of [
            [10, 1],
            [50, 1],
            [30, 0.3],
            [0, 1],
            [95, 2],
          ]) {
            const want = ref.fusion(Lg, Lr, r.p, r.pb, theta, tau, variant);
            const got = await session.fusion(c, { theta, tau, variant, weights: { mode: 'auto' } });
            const what = `class ${c} θ=${theta} τ=${tau}`;
            expect(got.map.every(Number.isFinite)).toBe(true);
            expect(ref.maxAbsDiff(got.denoised, want.denoised), what).toBeLessThan(TOL);
            expect(ref.maxAbsDiff(got.combined, want.combined), what).toBeLessThan(TOL);
            expect(ref.maxAbsDiff(got.map, want.map), what).toBeLessThan(TOL);
            expect(got.betas.baseline, what).toBeCloseTo(r.pb, 6);
            expect(got.betas.gradient, what).toBeCloseTo(want.betaG, 5);
            expect(got.betas.region, what).toBeCloseTo(want.betaR, 5);
            expect(got.betas.combined, what).toBeCloseTo(want.betaDR, 5);
          }
        }
      });
    }
  });
}

describe('tf tensors reach the same device values the JS reference assumes', () => {
  it('the test net weights are exactly float32 (no rounding between JS and tfjs)', () => {
    const spec = sequentialNet();
    for (const w of spec.weights.values()) expect(Array.from(w.kernel).every((v) => Math.fround(v) === v)).toBe(true);
    expect(tf.getBackend()).toBe('cpu');
  });
});
