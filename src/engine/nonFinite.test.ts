/**
 * NaN or ±Inf anywhere is reported, never returned as a map: a layer whose activations overflow
 * (its head clips them, so the scores stay finite) makes every method refuse with a clear
 * message instead of drawing zeros.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ExplanationSession } from './session';
import { CamModel } from './model/camModel';
import { layerThumbnails } from './model/layerThumbnails';
import { PREPROCESSING } from './model/descriptor';
import { liveTensors, useCpuBackend } from '../test-utils/setup';
import { randomInput, toFloat32 } from '../test-utils/tinyNets';

beforeAll(useCpuBackend);

/** conv → ReLU (the target layer) → ReLU6 → GAP → dense; filter 0's weights of 1e38 overflow to +Inf. */
function overflowingModel(): CamModel {
  const input = tfl.input({ shape: [14, 10, 3] });
  const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'conv', kernelInitializer: 'glorotUniform', seed: 3 } as never).apply(input) as tfl.SymbolicTensor;
  const relu = tfl.layers.activation({ activation: 'relu', name: 'relu' }).apply(conv) as tfl.SymbolicTensor;
  const clipped = tfl.layers.reLU({ maxValue: 6, name: 'clip6' }).apply(relu) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(clipped) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: 4, name: 'logits' }).apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: logits });
  const [kernel, bias] = model.getLayer('conv').getWeights();
  const k = kernel.arraySync() as number[][][][];
  for (const row of k) for (const col of row) for (const ch of col) ch[0] = 1e38;
  model.getLayer('conv').setWeights([tf.tensor4d(k), bias]);
  return new CamModel(model, { id: 'overflowing', name: 'overflowing', url: '', preprocessing: PREPROCESSING.raw });
}

describe('non-finite activations', () => {
  it('the scores are finite, but every map at the overflowing layer is refused with the count, and no tensor leaks', async () => {
    const model = overflowingModel();
    // positive inputs: every 3×3 patch sums to +Inf in filter 0
    const x = toFloat32(randomInput(5)).map((v) => Math.abs(v) + 0.1);
    const before = liveTensors();
    const s = await ExplanationSession.create(model, x, 'relu');
    expect(s.topK(4).every((p) => Number.isFinite(p.logit))).toBe(true);
    const msg = /activations at layer relu contain 140 NaN or infinite values \(of 420\)/;
    await expect(s.gradientMap(0)).rejects.toThrow(msg);
    await expect(s.gradientMap(1, 'gradcampp')).rejects.toThrow(msg);
    await expect(s.regionMap(0)).rejects.toThrow(msg);
    await expect(s.regionMap(0, { method: 'ablationcam' })).rejects.toThrow(msg);
    await expect(s.fusion(0, { theta: 10, tau: 1, variant: 'reference', weights: { mode: 'auto' } })).rejects.toThrow(msg);
    s.dispose();
    // the layer after the clip is finite: maps there work
    const ok = await ExplanationSession.create(model, x, 'clip6');
    const g = await ok.gradientMap(0);
    expect(g.map.every(Number.isFinite)).toBe(true);
    ok.dispose();
    expect(liveTensors()).toBe(before);
    model.dispose();
  });

  it('layer thumbnails (all layers in one backward pass): the overflowing layer gets the same message, the others a map', async () => {
    const model = overflowingModel();
    const x = toFloat32(randomInput(5)).map((v) => Math.abs(v) + 0.1);
    const before = liveTensors();
    const thumbs = await layerThumbnails(model, x, 0, { size: 10 });
    const byName = Object.fromEntries(thumbs.map((t) => [t.layer.name, t]));
    expect(byName.relu.error).toMatch(/activations at layer relu contain 140 NaN or infinite values \(of 420\)/);
    expect(byName.relu.map).toHaveLength(0);
    expect(byName.clip6.error).toBeUndefined();
    expect(byName.clip6.map.every(Number.isFinite)).toBe(true);
    expect(liveTensors()).toBe(before);
    model.dispose();
  });
});
