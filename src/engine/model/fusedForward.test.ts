/**
 * The fused-op forward (BatchNorm folded into conv weights, activations inside the conv kernel)
 * must give the logits of the layer-by-layer model: on a tiny random net with BatchNorms
 * (checked also against a float64 plain-JS evaluation) and on MobileNet v1 0.25 with its real
 * weights, on the cpu and wasm backends, without leaking tensors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initNodeBackend } from '../../node/backend';
import { loadLayersModelFromPathOrUrl, readImageFile } from '../../node/files';
import { CamModel } from './camModel';
import { PREPROCESSING } from './descriptor';
import { LayersGraph } from './graph';
import { compileFusedForward } from './fusedForward';
import { toModelInput } from '../image';
import { conv2d, rng, uniform, type JsTensor } from '../../test-utils/jsnet';

const SHARED = process.env.FUSION_CAM_SHARED ?? path.resolve(__dirname, '../../../../shared');
const IN: [number, number, number] = [10, 9, 3];

// ---- a tiny net: every fusable pattern, plus ones that must not be fused ----------------------

interface TinyNet {
  model: tfl.LayersModel;
  w: Map<string, Float64Array[]>;
}

function bnParams(c: number, rand: () => number, center = true, scale = true): Float64Array[] {
  const u = (lo: number, hi: number) => Float64Array.from({ length: c }, () => Math.fround(lo + (hi - lo) * rand()));
  return [...(scale ? [u(0.5, 1.5)] : []), ...(center ? [u(-0.5, 0.5)] : []), u(-0.5, 0.5), u(0.2, 1.5)];
}

function tinyNet(seed = 7): TinyNet {
  const rand = rng(seed);
  const L = tfl.layers;
  const x = tfl.input({ shape: IN, name: 'x' });
  const c1 = L.conv2d({ name: 'c1', filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }).apply(x) as tfl.SymbolicTensor;
  const bn1 = L.batchNormalization({ name: 'bn1', epsilon: 1e-3 }).apply(c1) as tfl.SymbolicTensor;
  const a1 = L.activation({ name: 'a1', activation: 'relu6' }).apply(bn1) as tfl.SymbolicTensor;
  const dw = L.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: true }).apply(a1) as tfl.SymbolicTensor;
  const bn2 = L.batchNormalization({ name: 'bn2', center: false, epsilon: 1e-2 }).apply(dw) as tfl.SymbolicTensor;
  const lr = L.leakyReLU({ name: 'lr', alpha: 0.2 }).apply(bn2) as tfl.SymbolicTensor;
  // conv with its own relu: the BatchNorm after it must NOT be folded
  const pw = L.conv2d({ name: 'pw', filters: 8, kernelSize: 1, activation: 'relu' }).apply(lr) as tfl.SymbolicTensor;
  const bn3 = L.batchNormalization({ name: 'bn3' }).apply(pw) as tfl.SymbolicTensor;
  const r3 = L.reLU({ name: 'r3', maxValue: 6 }).apply(bn3) as tfl.SymbolicTensor;
  const sum = L.add({ name: 'sum' }).apply([r3, a1]) as tfl.SymbolicTensor;
  const c5 = L.conv2d({ name: 'c5', filters: 6, kernelSize: 3, padding: 'valid', useBias: false }).apply(sum) as tfl.SymbolicTensor;
  // bn5's output is read twice: the fold may happen, the activation may not be absorbed
  const bn5 = L.batchNormalization({ name: 'bn5' }).apply(c5) as tfl.SymbolicTensor;
  const r5 = L.activation({ name: 'r5', activation: 'relu' }).apply(bn5) as tfl.SymbolicTensor;
  const sum2 = L.add({ name: 'sum2' }).apply([bn5, r5]) as tfl.SymbolicTensor;
  const gap = L.globalAveragePooling2d({ name: 'gap' }).apply(sum2) as tfl.SymbolicTensor;
  const drop = L.dropout({ name: 'drop', rate: 0.5 }).apply(gap) as tfl.SymbolicTensor;
  const out = L.dense({ name: 'out', units: 5 }).apply(drop) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: x, outputs: out });

  const w = new Map<string, Float64Array[]>([
    ['c1', [uniform(3 * 3 * 3 * 8, 0.5, rand)]],
    ['bn1', bnParams(8, rand)],
    ['dw', [uniform(3 * 3 * 8 * 2, 0.6, rand), uniform(16, 0.3, rand)]],
    ['bn2', bnParams(16, rand, false)],
    ['pw', [uniform(16 * 8, 0.5, rand), uniform(8, 0.3, rand)]],
    ['bn3', bnParams(8, rand)],
    ['c5', [uniform(3 * 3 * 8 * 6, 0.4, rand)]],
    ['bn5', bnParams(6, rand)],
    ['out', [uniform(6 * 5, 1, rand), uniform(5, 0.3, rand)]],
  ]);
  for (const [name, values] of w) {
    const layer = model.getLayer(name);
    const ts = layer.getWeights().map((t, i) => tf.tensor(Float32Array.from(values[i]), t.shape));
    layer.setWeights(ts);
    tf.dispose(ts);
  }
  return { model, w };
}

// float64 reference for tinyNet
const map = (t: JsTensor, f: (v: number, i: number) => number): JsTensor => ({ shape: t.shape, data: t.data.map(f) });
function bn(t: JsTensor, p: Float64Array[], eps: number, center = true): JsTensor {
  const c = t.shape[t.shape.length - 1];
  const [gamma, beta, mean, variance] = center ? p : [p[0], new Float64Array(c), p[1], p[2]];
  return map(t, (v, i) => {
    const k = i % c;
    return ((v - mean[k]) / Math.sqrt(variance[k] + eps)) * gamma[k] + beta[k];
  });
}
function depthwise(x: JsTensor, kernel: Float64Array, bias: Float64Array, mult: number): JsTensor {
  const [h, w, cin] = x.shape;
  const padT = Math.floor(Math.max(h - 1 + 3 - h, 0) / 2);
  const padL = Math.floor(Math.max(w - 1 + 3 - w, 0) / 2);
  const cout = cin * mult;
  const out = new Float64Array(h * w * cout);
  for (let y = 0; y < h; y++)
    for (let xx = 0; xx < w; xx++)
      for (let ci = 0; ci < cin; ci++)
        for (let m = 0; m < mult; m++) {
          let s = bias[ci * mult + m];
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) {
              const iy = y + ky - padT;
              const ix = xx + kx - padL;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              s += x.data[(iy * w + ix) * cin + ci] * kernel[((ky * 3 + kx) * cin + ci) * mult + m];
            }
          out[(y * w + xx) * cout + ci * mult + m] = s;
        }
  return { shape: [h, w, cout], data: out };
}
function jsTinyLogits(net: TinyNet, x: JsTensor): Float64Array {
  const w = net.w;
  const relu = (v: number) => Math.max(v, 0);
  const a1 = map(bn(conv2d(x, w.get('c1')![0], [3, 3, 3, 8], new Float64Array(8), 2, 'same'), w.get('bn1')!, 1e-3), (v) => Math.min(relu(v), 6));
  const [dk, db] = w.get('dw')!;
  const lr = map(bn(depthwise(a1, dk, db, 2), w.get('bn2')!, 1e-2, false), (v) => (v < 0 ? 0.2 * v : v));
  const [pk, pb] = w.get('pw')!;
  const r3 = map(bn(map(conv2d(lr, pk, [1, 1, 16, 8], pb, 1, 'same'), relu), w.get('bn3')!, 1e-3), (v) => Math.min(relu(v), 6));
  const sum = map(r3, (v, i) => v + a1.data[i]);
  const bn5 = bn(conv2d(sum, w.get('c5')![0], [3, 3, 8, 6], new Float64Array(6), 1, 'valid'), w.get('bn5')!, 1e-3);
  const sum2 = map(bn5, (v) => v + relu(v));
  const [oh, ow, c] = sum2.shape;
  const gap = new Float64Array(c);
  sum2.data.forEach((v, i) => (gap[i % c] += v / (oh * ow)));
  const [ok, ob] = w.get('out')!;
  return Float64Array.from({ length: 5 }, (_, u) => gap.reduce((s, g, i) => s + g * ok[i * 5 + u], ob[u]));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
function argmaxRows(z: Float32Array | Float64Array, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < z.length / cols; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (z[r * cols + c] > z[r * cols + best]) best = c;
    out.push(best);
  }
  return out;
}

function randomImages(n: number, shape: number[], seed: number, scale = 1): { t: tf.Tensor4D; js: JsTensor[] } {
  const rand = rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const js = Array.from({ length: n }, () => ({ shape, data: uniform(size, scale, rand) }));
  const data = new Float32Array(n * size);
  js.forEach((x, i) => data.set(Float32Array.from(x.data), i * size));
  return { t: tf.tensor4d(data, [n, ...shape] as [number, number, number, number]), js };
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`fused forward on ${backend}`, () => {
    beforeAll(async () => {
      await initNodeBackend(backend);
    });

    it('tiny net with BatchNorms: same logits as the layer path and as a float64 JS evaluation', () => {
      const net = tinyNet();
      const graph = new LayersGraph(net.model);
      const steps = graph.stepsFor(graph.outputIds, new Set(graph.inputIds));
      const program = compileFusedForward(steps, graph.outputIds);
      // c1+bn1+a1, dw+bn2+lr, c5+bn5 fold; pw keeps its relu and bn3 runs alone; r5 is read
      // after a BatchNorm whose output is also read by sum2, so it stays a layer.
      expect(program.info.foldedBatchNorms).toBe(3);
      expect(program.info.fusedActivations).toBe(2);
      expect(program.info.fallback.BatchNormalization).toBe(1);

      const { t: x, js } = randomImages(3, IN, 5, 1);
      const layered = tf.tidy(() => graph.run(steps, new Map([[graph.inputIds[0], x]]), graph.outputIds)[0]);
      const fused = program.run(new Map([[graph.inputIds[0], x]]))[0];
      const zl = layered.dataSync() as Float32Array;
      const zf = fused.dataSync() as Float32Array;
      const zj = Float64Array.from(js.flatMap((xi) => Array.from(jsTinyLogits(net, xi))));
      // the net is alive: logits spread over O(1)
      expect(Math.max(...zj) - Math.min(...zj)).toBeGreaterThan(0.3);
      expect(maxAbsDiff(zf, zl)).toBeLessThan(1e-4);
      expect(maxAbsDiff(zf, zj)).toBeLessThan(1e-4);
      expect(argmaxRows(zf, 5)).toEqual(argmaxRows(zj, 5));
      tf.dispose([x, layered, fused]);
      program.dispose();
      net.model.dispose();
    });

    it('follows weight changes and frees everything it made', () => {
      const before = tf.memory().numTensors;
      const net = tinyNet(11);
      const graph = new LayersGraph(net.model);
      const steps = graph.stepsFor(graph.outputIds, new Set(graph.inputIds));
      const afterModel = tf.memory().numTensors;
      const program = compileFusedForward(steps, graph.outputIds);
      const withProgram = tf.memory().numTensors;
      const { t: x } = randomImages(2, IN, 9);
      for (let i = 0; i < 5; i++) tf.dispose(program.run(new Map([[graph.inputIds[0], x]])));
      expect(tf.memory().numTensors).toBe(withProgram + 1); // + x
      // new BatchNorm statistics: the folded weights must follow
      const bn = net.model.getLayer('bn1');
      const w = bn.getWeights().map((t) => tf.mul(t, 1.5));
      bn.setWeights(w);
      tf.dispose(w);
      // (tidy: tfjs-layers' ReLU(maxValue) leaks an intermediate outside a tidy)
      const zl = tf.tidy(() => graph.run(steps, new Map([[graph.inputIds[0], x]]), graph.outputIds)[0]);
      const [zf] = program.run(new Map([[graph.inputIds[0], x]]));
      expect(maxAbsDiff(zf.dataSync(), zl.dataSync())).toBeLessThan(1e-4);
      tf.dispose([zl, zf, x]);
      expect(tf.memory().numTensors).toBe(withProgram);
      program.dispose();
      expect(tf.memory().numTensors).toBe(afterModel);
      net.model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it('MobileNet v1 0.25 (real weights): logits within 1e-3 of the layer path, same top-1, no leak', async () => {
      const model = await loadLayersModelFromPathOrUrl(path.join(SHARED, 'models/mobilenet_v1_0.25_224'));
      const cam = new CamModel(model, { id: 'mn', name: 'mn', url: '', preprocessing: PREPROCESSING.mobilenet });
      const img = await readImageFile(path.join(SHARED, 'images/photos/dog.jpg'));
      const { input } = toModelInput(img, cam.inputSize, PREPROCESSING.mobilenet);
      const rand = randomImages(1, [224, 224, 3], 3);
      const x = tf.tidy(() => {
        const photo = tf.tensor4d(input, [1, 224, 224, 3]);
        // the photo, the photo masked to half (as Score-CAM feeds it), random noise, the baseline
        return tf.concat([photo, tf.mul(photo, 0.5), rand.t, tf.zerosLike(photo)]) as tf.Tensor4D;
      });
      rand.t.dispose();
      cam.logits(x).dispose(); // warm-up
      const before = tf.memory().numTensors;
      expect(cam.useFusedForward).toBe(true);
      const zf = cam.logits(x);
      cam.useFusedForward = false;
      const zl = cam.logits(x);
      cam.useFusedForward = true;
      const f = zf.dataSync() as Float32Array;
      const l = zl.dataSync() as Float32Array;
      expect(maxAbsDiff(f, l)).toBeLessThan(1e-3);
      expect(argmaxRows(f, 1000)).toEqual(argmaxRows(l, 1000));
      expect(Math.max(...l) - Math.min(...l)).toBeGreaterThan(5); // real logits, not a dead net
      tf.dispose([zf, zl]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      cam.dispose();
    });
  });
}

afterAll(() => {
  tf.disposeVariables();
});
