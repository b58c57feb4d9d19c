/**
 * Real-model smoke test: MobileNet v1 0.25 on dog.jpg with the wasm backend (Node).
 * - top-1 is malamute (PROVENANCE.md);
 * - Grad-CAM at conv_pw_13_relu equals a tf.grad-free JS computation: the head is
 *   GAP → reshape → dropout → conv_preds (1×1), so ∂z_c/∂A_k(i,j) = W_preds[k, c] / 49;
 * - gradients through a deeper head (depthwise convs) on wasm equal those on cpu, which proves
 *   registerWasmFallbackKernels supplies correct backprop kernels;
 * - Score-CAM (reference) with batch size 1 and 64 gives the same map;
 * - nothing leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initNodeBackend } from '../node/backend';
import { loadLayersModelFromPathOrUrl, readImageFile } from '../node/files';
import { CamModel } from './model/camModel';
import { PREPROCESSING } from './model/descriptor';
import { toModelInput } from './image';
import { ExplanationSession } from './session';
import { maxAbsDiff, normalize, relu, upsample } from '../test-utils/camReference';

const SHARED = process.env.FUSION_CAM_SHARED ?? fileURLToPath(new URL('../../../shared', import.meta.url));
const MODEL = path.join(SHARED, 'models', 'mobilenet_v1_0.25_224');
const MALAMUTE = 249;

let model: CamModel;
let input: Float32Array;

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
  const labels = JSON.parse(fs.readFileSync(path.join(SHARED, 'labels', 'imagenet_classes.json'), 'utf8')) as string[];
  model = new CamModel(await loadLayersModelFromPathOrUrl(MODEL), {
    id: 'mobilenet_v1_0.25_224',
    name: 'MobileNet v1 0.25',
    url: MODEL,
    preprocessing: PREPROCESSING.mobilenet,
    labels,
  });
  input = toModelInput(await readImageFile(path.join(SHARED, 'images', 'photos', 'dog.jpg')), model.inputSize, model.descriptor.preprocessing).input;
});

afterAll(() => model?.dispose());

describe('MobileNet v1 0.25 on dog.jpg (wasm)', () => {
  it('stops before act_softmax; default layer conv_pw_13_relu (7×7×256); top-1 malamute', async () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(model.stopsBeforeSoftmax).toBe(true);
    expect(model.numClasses).toBe(1000);
    expect(model.defaultLayer()).toBe('conv_pw_13_relu');
    expect(model.split().layer.shape).toEqual([7, 7, 256]);
    const before = tf.memory().numTensors;
    const s = await ExplanationSession.create(model, input);
    expect(s.predictedClass).toBe(MALAMUTE);
    expect(s.topK(1)[0].label).toMatch(/malamute/);
    // the published softmax output agrees with softmax(logits)
    const probs = tf.tidy(() => tf.reshape(model.model.predict(s.x) as tf.Tensor, [-1]).dataSync());
    expect(maxAbsDiff(probs, s.probabilities)).toBeLessThan(1e-5);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Grad-CAM equals the tf.grad-free JS computation from A and the conv_preds weights', async () => {
    const before = tf.memory().numTensors;
    const s = await ExplanationSession.create(model, input);
    const [kernel] = model.model.getLayer('conv_preds').getWeights(); // [1, 1, 256, 1000]
    const W = await kernel.data();
    const A = await s.A.data();
    const [h, w, K] = [7, 7, 256];
    const c = MALAMUTE;
    const g = await s.gradients(c).data();
    let gErr = 0;
    for (let i = 0; i < h * w; i++) for (let k = 0; k < K; k++) gErr = Math.max(gErr, Math.abs(g[i * K + k] - W[k * 1000 + c] / (h * w)));
    expect(gErr).toBeLessThan(1e-6);
    const sal = new Float64Array(h * w);
    for (let i = 0; i < h * w; i++) for (let k = 0; k < K; k++) sal[i] += (W[k * 1000 + c] / (h * w)) * A[i * K + k];
    for (const variant of ['reference', 'xplain'] as const) {
      const want = normalize(upsample(relu(sal), h, w, 224, 224), variant);
      expect(maxAbsDiff((await s.gradientMap(c, 'gradcam', variant)).map, want)).toBeLessThan(1e-4);
    }
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gradients through depthwise/pointwise convs: wasm (with the fallback kernels) equals cpu', async () => {
    const layer = 'conv_pw_11_relu'; // head: dw_12, pw_12, dw_13, pw_13 (+BN, relu6), GAP, conv_preds
    // wasm has none of these natively; the engine registers cpu-backed versions
    for (const k of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']) {
      expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
    }
    const onWasm = await ExplanationSession.create(model, input, layer);
    const gWasm = Float32Array.from(await onWasm.gradients(MALAMUTE).data());
    const mapWasm = (await onWasm.gradientMap(MALAMUTE)).map;
    onWasm.dispose();
    await initNodeBackend('cpu');
    try {
      const onCpu = await ExplanationSession.create(model, input, layer);
      const gCpu = await onCpu.gradients(MALAMUTE).data();
      const mapCpu = (await onCpu.gradientMap(MALAMUTE)).map;
      onCpu.dispose();
      const scale = Math.max(...Array.from(gCpu, Math.abs));
      expect(scale).toBeGreaterThan(0);
      expect(maxAbsDiff(gWasm, gCpu) / scale).toBeLessThan(1e-4);
      expect(maxAbsDiff(mapWasm, mapCpu)).toBeLessThan(1e-4);
    } finally {
      await initNodeBackend('wasm');
    }
  });

  it('Score-CAM (reference) with batch size 1 and 64 gives the same map', async () => {
    const before = tf.memory().numTensors;
    const maps: Float32Array[] = [];
    for (const batchSize of [1, 64]) {
      const s = await ExplanationSession.create(model, input);
      const r = await s.regionMap(MALAMUTE, { variant: 'reference', batchSize });
      expect(r.map.every(Number.isFinite)).toBe(true);
      expect(r.forwardPasses).toBe(256 - r.constantChannels + (r.constantChannels > 0 ? 1 : 0));
      maps.push(r.map);
      s.dispose();
    }
    expect(maxAbsDiff(maps[0], maps[1])).toBeLessThan(1e-6);
    expect(tf.memory().numTensors).toBe(before);
  });
});
