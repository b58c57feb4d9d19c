/**
 * The TF-Hub MobileNet v1 0.25 GraphModel through GraphCamModel: internal-node features, a head
 * fed from an internal tensor, gradients checked by finite differences, a session running
 * Grad-CAM and Score-CAM on it, sensible predictions on real ImageNet images, and a clear
 * message for a fused-op graph whose gradients tfjs cannot compute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import fs from 'node:fs/promises';
import path from 'node:path';
import { initNodeBackend } from '../../node/backend';
import { readImageFile } from '../../node/files';
import { toModelInput } from '../image';
import { ExplanationSession } from '../session';
import { PREPROCESSING } from './descriptor';
import { GraphCamModel, isGraphModelJson, loadGraphCamModel } from './graphCamModel';
import { IMAGENET_LABELS } from './registry';
import { CamError } from '../errors';
import * as ref from '../../test-utils/camReference';

const SHARED = process.env.FUSION_CAM_SHARED ?? path.resolve(__dirname, '../../../../shared');
const DIR = path.join(SHARED, 'models/mobilenet_v1_0.25_224_graph');
const PREFIX = 'module_apply_default/MobilenetV1/MobilenetV1/';

const reader = (dir: string) => async (p: string) => {
  const b = await fs.readFile(path.join(dir, p));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};

let gm: GraphCamModel;
beforeAll(async () => {
  // wasm: Score-CAM's 256 forward passes at 224×224 take minutes on the cpu backend
  await initNodeBackend('wasm');
  const json = JSON.parse(await fs.readFile(path.join(DIR, 'model.json'), 'utf8'));
  expect(isGraphModelJson(json)).toBe(true);
  gm = await loadGraphCamModel(json, reader(DIR), {
    id: 'mobilenet_v1_0.25_224_graph',
    name: 'MobileNet v1 0.25 (GraphModel)',
    url: DIR,
    // the graph scales [0,1] to [-1,1] itself
    preprocessing: PREPROCESSING.unit,
    labels: ['background', ...IMAGENET_LABELS],
  });
});
afterAll(() => gm?.dispose());

describe('GraphCamModel on the TF-Hub MobileNet v1 GraphModel', () => {
  it('reads input size, 1001 plain logits and the ReLU6 outputs as candidate layers', () => {
    expect(gm.inputSize).toEqual([224, 224]);
    expect(gm.numClasses).toBe(1001);
    expect(gm.stopsBeforeSoftmax).toBe(false);
    const c = gm.candidateLayers();
    // Conv2d_0 and 13 depthwise + 13 pointwise blocks, each ending in Relu6
    expect(c.length).toBe(27);
    expect(c.every((l) => l.className === 'Relu6')).toBe(true);
    expect(c[0]).toEqual({ name: `${PREFIX}Conv2d_0/Relu6`, className: 'Relu6', shape: [112, 112, 8] });
    expect(gm.defaultLayer()).toBe(`${PREFIX}Conv2d_13_pointwise/Relu6`);
    expect(c[c.length - 1].shape).toEqual([7, 7, 256]);
    expect(() => gm.split('nope')).toThrow(/No node named "nope"/);
  });

  it('head(features(x)) equals the GraphModel\'s own full prediction at several nodes, without leaks', () => {
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const full = tf.tidy(() => (gm.model.predict(x) as tf.Tensor).dataSync());
    const before = tf.memory().numTensors;
    for (const layer of ['Conv2d_1_depthwise/Relu6', 'Conv2d_6_pointwise/Relu6', 'Conv2d_13_depthwise/Relu6', 'Conv2d_13_pointwise/Relu6']) {
      const split = gm.split(PREFIX + layer);
      const z = tf.tidy(() => {
        const { A, extras } = split.features(x);
        expect(A.shape.slice(1)).toEqual(split.layer.shape);
        return split.head(A, extras).dataSync();
      });
      let d = 0;
      for (let i = 0; i < z.length; i++) d = Math.max(d, Math.abs(z[i] - full[i]));
      expect(d, layer).toBeLessThan(1e-4);
    }
    const z = tf.tidy(() => gm.logits(x).dataSync());
    expect(Array.from(z)).toEqual(Array.from(full));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('gradients flow through execute(): tf.grad matches central finite differences', () => {
    expect(gm.gradientSupport()).toEqual({ ok: true });
    const split = gm.split(`${PREFIX}Conv2d_12_pointwise/Relu6`);
    const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const { A, extras } = split.features(x);
    const c = 209;
    const g = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.slice(split.head(a as tf.Tensor4D, extras), [0, c], [1, 1])))(A).dataSync());
    const a0 = A.dataSync();
    const idx = Array.from(g, (v, i) => [Math.abs(v), i]).sort((p, q) => q[0] - p[0]).slice(0, 5).map((e) => e[1]);
    const eps = 1e-2;
    for (const i of idx) {
      const zAt = (delta: number) =>
        tf.tidy(() => {
          const a = Float32Array.from(a0);
          a[i] += delta;
          return split.head(tf.tensor4d(a, A.shape), extras).dataSync()[c];
        });
      // ReLU6 kinks and float32 logits limit FD accuracy; a wrong gradient is off by far more
      expect(Math.abs((zAt(eps) - zAt(-eps)) / (2 * eps) - g[i])).toBeLessThan(2e-3 + 0.05 * Math.abs(g[i]));
    }
    A.dispose();
    x.dispose();
  });

  it('an ExplanationSession runs Grad-CAM and Score-CAM on it unchanged, without leaks', async () => {
    const img = await readImageFile(path.join(SHARED, 'images/photos/dog.jpg'));
    const { input } = toModelInput(img, gm.inputSize, gm.descriptor.preprocessing);
    const before = tf.memory().numTensors;
    const s = await ExplanationSession.create(gm, input);
    const top = s.topK(5);
    // index 0 is "background"; the photo's malamute/husky must be near the top
    expect(top.some((p) => /malamute|husky|Eskimo dog/i.test(p.label))).toBe(true);
    const c = s.predictedClass;
    const g = await s.gradientMap(c);
    expect(g.allZero).toBe(false);
    const r = await s.regionMap(c, { batchSize: 32, orderByGradient: true });
    expect(r.map.length).toBe(224 * 224);
    expect(Math.max(...r.map)).toBeCloseTo(1, 5);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('predicts ImageNet validation images sensibly (labels shifted by the background class)', async () => {
    const meta = JSON.parse(await fs.readFile(path.join(SHARED, 'images/imagenet_val/labels.json'), 'utf8')) as { images: { file: string; label: number }[] };
    const sample = meta.images.filter((_, i) => i % 19 === 0).slice(0, 10);
    let correct = 0;
    for (const e of sample) {
      const img = await readImageFile(path.join(SHARED, 'images/imagenet_val', e.file));
      const { input } = toModelInput(img, gm.inputSize, gm.descriptor.preprocessing);
      const z = tf.tidy(() => gm.logits(tf.tensor4d(input, [1, 224, 224, 3])).dataSync());
      let best = 0;
      for (let i = 1; i < z.length; i++) if (z[i] > z[best]) best = i;
      if (best - 1 === e.label) correct++;
    }
    // MobileNet v1 0.25 reaches ~50 % top-1 on ImageNet; 10 images at chance would give 0
    expect(correct).toBeGreaterThanOrEqual(4);
  });
});

/**
 * A tiny graph as tensorflowjs_converter writes it with fused ops:
 * _FusedConv2D(+BiasAdd+Relu6) → Mean → MatMul, optionally followed by a StridedSlice (an op
 * tfjs has no gradient for).
 */
function tinyGraph(withStridedSlice: boolean) {
  const s = (v: string) => Buffer.from(v).toString('base64');
  const f32 = { type: 'DT_FLOAT' };
  const i32 = { type: 'DT_INT32' };
  const konst = (name: string, dtype: string, dims: number[]) => ({
    name,
    op: 'Const',
    attr: { dtype: { type: dtype }, value: { tensor: { dtype, tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } } } },
  });
  const node = [
    { name: 'x', op: 'Placeholder', attr: { dtype: f32, shape: { shape: { dim: [{ size: '-1' }, { size: '8' }, { size: '8' }, { size: '3' }] } } } },
    konst('w', 'DT_FLOAT', [3, 3, 3, 4]),
    konst('b', 'DT_FLOAT', [4]),
    konst('axes', 'DT_INT32', [2]),
    konst('fc', 'DT_FLOAT', [4, 3]),
    {
      name: 'conv/Relu6',
      op: '_FusedConv2D',
      input: ['x', 'w', 'b'],
      attr: {
        T: f32,
        num_args: { i: '1' },
        fused_ops: { list: { s: [s('BiasAdd'), s('Relu6')] } },
        strides: { list: { i: ['1', '1', '1', '1'] } },
        padding: { s: s('SAME') },
        data_format: { s: s('NHWC') },
        dilations: { list: { i: ['1', '1', '1', '1'] } },
        epsilon: { f: 0 },
      },
    },
    { name: 'pool', op: 'Mean', input: ['conv/Relu6', 'axes'], attr: { T: f32, keep_dims: { b: false }, Tidx: i32 } },
    { name: 'logits', op: 'MatMul', input: ['pool', 'fc'], attr: { T: f32, transpose_a: { b: false }, transpose_b: { b: false } } },
  ];
  const weights = [
    { name: 'w', shape: [3, 3, 3, 4], dtype: 'float32' },
    { name: 'b', shape: [4], dtype: 'float32' },
    { name: 'axes', shape: [2], dtype: 'int32' },
    { name: 'fc', shape: [4, 3], dtype: 'float32' },
  ];
  const values: number[] = [...Array.from({ length: 108 + 4 }, (_, i) => Math.sin(i * 1.7)), 1, 2, ...Array.from({ length: 12 }, (_, i) => Math.cos(i))];
  const ints = new Set([112, 113]);
  if (withStridedSlice) {
    node.push(konst('begin', 'DT_INT32', [2]), konst('end', 'DT_INT32', [2]), konst('strides', 'DT_INT32', [2]));
    node.push({
      name: 'sliced',
      op: 'StridedSlice',
      input: ['logits', 'begin', 'end', 'strides'],
      attr: { T: f32, Index: i32, begin_mask: { i: '3' }, end_mask: { i: '3' }, ellipsis_mask: { i: '0' }, new_axis_mask: { i: '0' }, shrink_axis_mask: { i: '0' } } as never,
    });
    weights.push({ name: 'begin', shape: [2], dtype: 'int32' }, { name: 'end', shape: [2], dtype: 'int32' }, { name: 'strides', shape: [2], dtype: 'int32' });
    for (let i = 0; i < 6; i++) ints.add(values.length + i);
    values.push(0, 0, 0, 0, 1, 1);
  }
  const buf = new ArrayBuffer(values.length * 4);
  const dv = new DataView(buf);
  values.forEach((v, i) => (ints.has(i) ? dv.setInt32(i * 4, v, true) : dv.setFloat32(i * 4, v, true)));
  const json = { format: 'graph-model', modelTopology: { node, versions: { producer: 1 } }, weightsManifest: [{ paths: ['w.bin'], weights }] };
  return { json, buf };
}

describe('GraphModels with fused ops or ops without gradients', () => {
  const input = Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => (i % 7) / 7);

  it('fused conv+Relu6 still has gradients (tfjs unfuses ops while recording a gradient)', async () => {
    const { json, buf } = tinyGraph(false);
    const m = await loadGraphCamModel(json, async () => buf, { id: 'f', name: 'fused', url: '', preprocessing: PREPROCESSING.unit });
    expect(m.candidateLayers().map((l) => l.name)).toEqual(['conv/Relu6']);
    expect(m.numClasses).toBe(3);
    expect(m.gradientSupport()).toEqual({ ok: true });
    // ∂z_c/∂A by hand: z = mean_ij(A) · fc, so ∂z_c/∂A_ijk = fc[k][c] / 64 everywhere
    const sess = await ExplanationSession.create(m, input);
    const g = sess.gradients(1).dataSync();
    const fc = Array.from({ length: 12 }, (_, i) => Math.fround(Math.cos(i)));
    for (let k = 0; k < 4; k++) expect(g[5 * 4 + k]).toBeCloseTo(fc[k * 3 + 1] / 64, 6);
    sess.dispose();
    m.dispose();
  });

  it('an op without a tfjs gradient: forward passes work, gradient methods give one clear CamError', async () => {
    const { json, buf } = tinyGraph(true);
    const before = tf.memory().numTensors;
    const m = await loadGraphCamModel(json, async () => buf, { id: 'f', name: 'sliced', url: '', preprocessing: PREPROCESSING.unit });
    const support = m.gradientSupport();
    expect(support.ok).toBe(false);
    expect(support.reason).toMatch(/^Gradients cannot flow through this GraphModel at "conv\/Relu6" \(.*StridedSlice.*\): Score-CAM works, Grad-CAM and Fusion-CAM need/);
    const sess = await ExplanationSession.create(m, input);
    const r = await sess.regionMap(sess.predictedClass, { batchSize: 2 });
    expect(r.map.length).toBe(64);
    const err = await sess.gradientMap(sess.predictedClass).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CamError);
    expect((err as CamError).message).toBe(support.reason);
    // EigenCAM needs no gradient: it runs here, and equals the projection computed independently
    const eigen = await sess.gradientMap(sess.predictedClass, 'eigencam');
    const [, h, w, K] = sess.A.shape;
    const A = { shape: [h, w, K] as [number, number, number], data: Float64Array.from(await sess.A.data()) };
    const want = ref.normalize(ref.upsample(ref.relu(ref.principalProjection(A)), h, w, 8, 8), 'reference');
    expect(eigen.map.length).toBe(64);
    expect(eigen.map.some((v) => v > 0)).toBe(true);
    expect(ref.maxAbsDiff(eigen.map, want)).toBeLessThan(1e-5);
    sess.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
