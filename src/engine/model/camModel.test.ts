/**
 * CamModel on tiny random nets against a plain-JS evaluation of the same weights: logits are the
 * pre-softmax values, candidate/default layers follow the spec's rule, and for every candidate
 * layer head(features(x)) reproduces the logits (skip connections become extra head inputs).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { camModelFor, liveTensors, useCpuBackend } from '../../test-utils/setup';
import { jsActivation, jsLogits, type JsTensor, type NetSpec } from '../../test-utils/jsnet';
import { INPUT, randomInput, sequentialNet, skipNet, softmaxNet, type SoftmaxTail } from '../../test-utils/tinyNets';
import { maxAbsDiff } from '../../test-utils/camReference';

beforeAll(useCpuBackend);

const [H, W] = INPUT;
const xs = [randomInput(11), randomInput(12)];

function batch(images: JsTensor[]): tf.Tensor4D {
  const data = new Float32Array(images.length * H * W * 3);
  images.forEach((x, i) => data.set(Float32Array.from(x.data), i * H * W * 3));
  return tf.tensor4d(data, [images.length, H, W, 3]);
}

/** Largest |logit| must be O(1): the test nets must not have vanishing activations (docs/platform-notes.md note 12). */
function assertAlive(spec: NetSpec): void {
  const z = jsLogits(spec, xs[0]);
  const spread = Math.max(...z) - Math.min(...z);
  expect(spread).toBeGreaterThan(0.3);
}

interface Case {
  name: string;
  spec: NetSpec;
  softmax: boolean;
  candidates: [string, [number, number, number]][];
  defaultLayer: string;
}

const cases: Case[] = [
  {
    name: 'sequential conv→relu→conv→GAP→dense',
    spec: sequentialNet(),
    softmax: false,
    candidates: [
      ['conv1', [12, 8, 4]],
      ['conv2', [6, 4, 6]],
      ['relu2', [6, 4, 6]],
    ],
    defaultLayer: 'relu2',
  },
  {
    name: 'functional with a skip connection',
    spec: skipNet(),
    softmax: false,
    candidates: [
      ['c1', [7, 5, 5]],
      ['c2', [7, 5, 5]],
      ['c3', [7, 5, 5]],
      ['sum', [7, 5, 5]],
      ['sum_relu', [7, 5, 5]],
    ],
    defaultLayer: 'sum_relu',
  },
  ...(['activation', 'dense-softmax', 'conv-softmax-reshape', 'conv-activation-reshape'] as SoftmaxTail[]).map(
    (tail): Case => ({
      name: `ending in softmax (${tail})`,
      spec: softmaxNet(tail),
      softmax: true,
      candidates: [
        ['conv1', [14, 10, 4]],
        ['conv2', [7, 5, 6]],
      ],
      defaultLayer: 'conv2',
    }),
  ),
];

describe.each(cases)('CamModel: $name', ({ spec, softmax, candidates, defaultLayer }) => {
  it('has live activations (weights scaled so logits do not vanish)', () => assertAlive(spec));

  it('finds the logits: equal to a JS evaluation with every softmax removed', () => {
    const m = camModelFor(spec);
    expect(m.stopsBeforeSoftmax).toBe(softmax);
    const x = batch(xs);
    const z = m.logits(x);
    const got = z.arraySync();
    xs.forEach((xi, i) => expect(maxAbsDiff(got[i], jsLogits(spec, xi))).toBeLessThan(1e-5));
    expect(m.numClasses).toBe(got[0].length);
    // the published output: probabilities whose log-differences are the logit differences
    const out = m.model.predict(x) as tf.Tensor;
    const p = tf.reshape(out, [2, -1]).arraySync() as number[][];
    for (let i = 0; i < 2; i++) {
      if (softmax) {
        expect(p[i].reduce((a, b) => a + b)).toBeCloseTo(1, 5);
        for (let k = 1; k < p[i].length; k++) {
          expect(Math.log(p[i][k]) - Math.log(p[i][0])).toBeCloseTo(got[i][k] - got[i][0], 4);
        }
      } else {
        expect(maxAbsDiff(p[i], got[i])).toBeLessThan(1e-6);
      }
    }
    tf.dispose([x, z, out]);
    m.dispose();
  });

  it('lists candidate layers (4-D, spatial > 1) and picks the last as default', () => {
    const m = camModelFor(spec);
    expect(m.candidateLayers().map((c) => [c.name, c.shape])).toEqual(candidates);
    expect(m.defaultLayer()).toBe(defaultLayer);
    m.dispose();
  });

  it.each(candidates.map(([n]) => n))('split at %s: features = JS activations, head(features(x)) = logits', (layer) => {
    const m = camModelFor(spec);
    tf.tidy(() => m.logits(batch([xs[0]]))).dispose(); // first use builds a softmax layer's linear twin
    const before = liveTensors();
    const split = m.split(layer);
    const x = batch(xs);
    const { A, extras } = split.features(x);
    const Ad = A.arraySync();
    xs.forEach((xi, i) => {
      expect(maxAbsDiff(Ad[i].flat(2), jsActivation(spec, xi, layer).data)).toBeLessThan(1e-5);
    });
    const z = split.head(A, extras);
    const full = m.logits(x);
    expect(maxAbsDiff(z.dataSync(), full.dataSync())).toBeLessThan(1e-5);

    // A batch of different activations with the image's batch-1 extras (how Score-CAM and
    // Grad-CAM call the head): each row equals the JS head with that activation overridden.
    const x0 = batch([xs[0]]);
    const f0 = split.features(x0);
    const scaled = tf.tidy(() => tf.concat([f0.A, tf.mul(f0.A, 0.5), tf.add(f0.A, 0.25)]) as tf.Tensor4D);
    const zbT = split.head(scaled, f0.extras);
    const zb = zbT.arraySync();
    const a0 = jsActivation(spec, xs[0], layer);
    const variants = [a0, { shape: a0.shape, data: a0.data.map((v) => v * 0.5) }, { shape: a0.shape, data: a0.data.map((v) => v + 0.25) }];
    variants.forEach((a, i) => expect(maxAbsDiff(zb[i], jsLogits(spec, xs[0], [layer, a]))).toBeLessThan(1e-5));

    tf.dispose([x, A, ...extras, z, full, x0, f0.A, ...f0.extras, scaled, zbT]);
    expect(liveTensors()).toBe(before);
    m.dispose();
  });

  it('dispose() releases every tensor the model and its logits path created', () => {
    const before = liveTensors();
    const m = camModelFor(spec);
    const x = batch([xs[0]]);
    tf.dispose([m.logits(x), x]);
    m.dispose();
    expect(liveTensors()).toBe(before);
  });
});

describe('CamModel: extra head inputs of a skip connection', () => {
  it('a head cut at c2 needs c1; cut after the add it needs nothing', () => {
    const m = camModelFor(skipNet());
    const x = batch([xs[0]]);
    for (const [layer, n] of [
      ['c1', 0],
      ['c2', 1],
      ['c3', 1],
      ['sum', 0],
      ['sum_relu', 0],
    ] as const) {
      const { A, extras } = m.split(layer).features(x);
      expect(extras.length, layer).toBe(n);
      if (n === 1) expect(maxAbsDiff(extras[0].dataSync(), jsActivation(skipNet(), xs[0], 'c1').data)).toBeLessThan(1e-5);
      tf.dispose([A, ...extras]);
    }
    x.dispose();
    m.dispose();
  });
});

describe('CamModel: bad layer names', () => {
  it('says which layer is wrong and why', () => {
    const m = camModelFor(sequentialNet());
    expect(() => m.split('nope')).toThrow(/No layer named "nope"/);
    expect(() => m.split('gap')).toThrow(/"gap".*4-D output/);
    m.dispose();
  });
});
