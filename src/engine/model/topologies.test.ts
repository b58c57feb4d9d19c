/**
 * Any topology: generated MobileNetV2-like and ResNet-like LayersModels with several head kinds,
 * saved to model.json + shard and loaded back through the engine's loader. The logits are
 * computed independently (tfjs-layers' own predict up to the pre-softmax tensor, or the last
 * Dense/Conv applied by hand to its input), and the split head(features(x)) must reproduce them
 * at every candidate layer, including layers inside residual blocks where the head needs the
 * skip tensor as an extra input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initNodeBackend } from '../../node/backend';
import { loadLayersModelFromPathOrUrl } from '../../node/files';
import { CamModel } from './camModel';
import { PREPROCESSING, type ModelDescriptor } from './descriptor';
import { ExplanationSession } from '../session';
import { mobileNetV2Like, resNetLike, saveModelToDir, type HeadKind } from './testing/generatedNets';

const descriptor = (name: string): ModelDescriptor => ({ id: name, name, url: '', preprocessing: PREPROCESSING.unit });

let tmp: string;
beforeAll(async () => {
  await initNodeBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'fcam-topo-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Independent logits: tfjs-layers' own execution up to the head's input, last layer by hand. */
function independentLogits(model: tfl.LayersModel, kind: HeadKind, x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => {
    const pooledModel = tfl.model({ inputs: model.inputs, outputs: model.getLayer('global_pool').output as tfl.SymbolicTensor });
    const pooled = pooledModel.predict(x) as tf.Tensor2D;
    const last = model.getLayer(kind === 'logits' ? 'logits' : kind === 'dense-softmax' ? 'predictions' : 'conv_preds');
    const [kernel, bias] = last.getWeights();
    const W = tf.reshape(kernel, [pooled.shape[1], -1]);
    return tf.add(tf.matMul(pooled, W), bias).dataSync() as Float32Array;
  });
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / Math.max(scale, 1e-6);
}

const cases: { net: string; kind: HeadKind; layers: string[]; skipLayer: string }[] = [
  {
    net: 'mobilenetv2',
    kind: 'dense-softmax',
    // inside a residual block (head needs the block input), the add itself, a plain conv, the last layer
    layers: ['Conv1_relu', 'block_1_depthwise_relu', 'block_1_add', 'block_2_project_BN', 'block_3_expand_relu', 'block_4_add', 'out_relu'],
    skipLayer: 'block_3_depthwise_relu',
  },
  { net: 'mobilenetv2', kind: 'logits', layers: ['block_3_add', 'out_relu'], skipLayer: 'block_4_expand_relu' },
  { net: 'resnet', kind: 'logits', layers: ['conv1_relu', 'pool1', 'res1_relu1', 'res1_out', 'res2_relu1', 'res2_bn2', 'res3_relu1', 'res3_out'], skipLayer: 'res3_relu1' },
  { net: 'resnet', kind: 'conv-softmax-reshape', layers: ['res2_proj_bn', 'res3_out'], skipLayer: 'res2_relu1' },
  { net: 'resnet', kind: 'activation-softmax', layers: ['res1_out', 'res3_out'], skipLayer: 'res3_relu1' },
];

describe.each(cases)('$net with a $kind head, saved and loaded back', ({ net, kind, layers, skipLayer }) => {
  let loaded: tfl.LayersModel;
  let cam: CamModel;
  let x: tf.Tensor4D;
  let expected: Float32Array;

  beforeAll(async () => {
    const original = net === 'mobilenetv2' ? mobileNetV2Like({ head: kind }) : resNetLike({ head: kind });
    const dir = path.join(tmp, `${net}-${kind}`);
    await saveModelToDir(original, dir);
    loaded = await loadLayersModelFromPathOrUrl(dir);
    x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    // the saved files reproduce the original model
    const a = tf.tidy(() => (original.predict(x) as tf.Tensor).dataSync());
    const b = tf.tidy(() => (loaded.predict(x) as tf.Tensor).dataSync());
    expect(maxRelDiff(b, a)).toBeLessThan(1e-6);
    original.dispose();
    cam = new CamModel(loaded, descriptor(net));
    expected = independentLogits(loaded, kind, x);
  });
  afterAll(() => {
    x.dispose();
    cam.dispose();
  });

  it('finds the logits before the softmax (or the plain logits) and the default layer', () => {
    expect(cam.stopsBeforeSoftmax).toBe(kind !== 'logits');
    expect(cam.numClasses).toBe(net === 'mobilenetv2' ? 7 : 6);
    expect(cam.defaultLayer()).toBe(net === 'mobilenetv2' ? 'out_relu' : 'res3_out');
    const z = cam.logits(x);
    expect(maxRelDiff(z.dataSync(), expected)).toBeLessThan(1e-5);
    if (kind !== 'logits') {
      // softmax of our logits is the published output
      const p = tf.tidy(() => tf.softmax(z).dataSync());
      const published = tf.tidy(() => (loaded.predict(x) as tf.Tensor).dataSync());
      expect(maxRelDiff(p, published)).toBeLessThan(1e-5);
    }
    z.dispose();
  });

  it('lists 4-D candidate layers only, in execution order, merges included', () => {
    const c = cam.candidateLayers();
    const names = c.map((l) => l.name);
    for (const l of layers) expect(names).toContain(l);
    expect(names).not.toContain('global_pool');
    for (const l of c) expect(l.shape[0] * l.shape[1]).toBeGreaterThan(1);
    const addLayers = c.filter((l) => l.className === 'Add');
    expect(addLayers.length).toBeGreaterThanOrEqual(net === 'mobilenetv2' ? 3 : 3);
  });

  it('head(features(x)) equals the independent logits at every tested layer', () => {
    for (const layer of layers) {
      const split = cam.split(layer);
      const before = tf.memory().numTensors;
      const z = tf.tidy(() => {
        const { A, extras } = split.features(x);
        return split.head(A, extras);
      });
      expect(z.shape).toEqual([2, cam.numClasses]);
      expect(maxRelDiff(z.dataSync(), expected), layer).toBeLessThan(1e-5);
      z.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('the head needs the skip tensor inside a residual block, and broadcasts batch-1 extras', () => {
    const split = cam.split(skipLayer);
    const first = tf.slice(x, [0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
    const { A, extras } = split.features(first);
    first.dispose();
    expect(extras.length).toBeGreaterThan(0);
    // a batch of 3 copies of A with batch-1 extras gives three copies of the image's logits
    const z = tf.tidy(() => split.head(tf.concat([A, A, A]) as tf.Tensor4D, extras).dataSync());
    const n = cam.numClasses;
    for (let b = 0; b < 3; b++) expect(maxRelDiff(z.slice(b * n, (b + 1) * n), expected.slice(0, n))).toBeLessThan(1e-5);
    A.dispose();
    extras.forEach((e) => e.dispose());
  });

  it('Grad-CAM gradients match central finite differences of the logit, through the skip connection', async () => {
    const input = tf.slice(x, [0, 0, 0, 0], [1, -1, -1, -1]);
    const s = await ExplanationSession.create(cam, (await input.data()) as Float32Array, skipLayer);
    input.dispose();
    const c = s.predictedClass;
    const g = s.gradients(c).dataSync();
    const A = s.A.dataSync();
    const extras = (s as unknown as { extras: tf.Tensor[] }).extras;
    const split = cam.split(skipLayer);
    // the entries with the largest gradients, plus a few others
    const idx = Array.from(g, (v, i) => [Math.abs(v), i]).sort((p, q) => q[0] - p[0]).slice(0, 4).map((e) => e[1]);
    idx.push(0, Math.floor(A.length / 2));
    const eps = 1e-2;
    for (const i of idx) {
      const zAt = (delta: number): number =>
        tf.tidy(() => {
          const a = Float32Array.from(A);
          a[i] += delta;
          return split.head(tf.tensor4d(a, s.A.shape), extras).dataSync()[c];
        });
      const fd = (zAt(eps) - zAt(-eps)) / (2 * eps);
      // ReLU kinks make FD inexact at a few points; the scale keeps the check meaningful
      expect(Math.abs(fd - g[i])).toBeLessThan(2e-3 + 0.02 * Math.abs(g[i]));
    }
    s.dispose();
  });

  it('Grad-CAM and Score-CAM run through the session without leaking tensors', async () => {
    const input = tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]);
    const data = (await input.data()) as Float32Array;
    input.dispose();
    const before = tf.memory().numTensors;
    const s = await ExplanationSession.create(cam, data, layers[layers.length - 1]);
    const c = s.predictedClass;
    const gc = await s.gradientMap(c);
    const sc = await s.regionMap(c, { batchSize: 5 });
    for (const m of [gc.map, sc.map]) {
      expect(m.length).toBe(32 * 32);
      expect(m.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    }
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
