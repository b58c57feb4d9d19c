import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../node/backend';
import { CamModel } from './camModel';
import { layerThumbnails } from './layerThumbnails';
import { smallResNetCam } from './testing/generatedNets';

let cam: CamModel;
let input: Float32Array;
beforeAll(async () => {
  await initNodeBackend('cpu');
  ({ cam, input } = smallResNetCam());
});

/** Grad-CAM by hand from ∂z_c/∂A (tf.grad of the split head): α = spatial mean, ReLU(Σ α A), half-pixel bilinear up, min-max. */
function handGradCam(layer: string, c: number): Float32Array {
  const split = cam.split(layer);
  const x = tf.tensor4d(input, [1, 32, 32, 3]);
  const { A, extras } = split.features(x);
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.slice(split.head(a as tf.Tensor4D, extras), [0, c], [1, 1])))(A);
  const [, h, w, K] = A.shape;
  const a = A.dataSync();
  const gd = g.dataSync();
  [x, A, g, ...extras].forEach((t) => t.dispose());
  const alpha = new Float64Array(K);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < K; k++) alpha[k] += gd[i * K + k] / (h * w);
  const cam0 = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += alpha[k] * a[i * K + k];
    cam0[i] = Math.max(0, s);
  }
  const up = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(Float32Array.from(cam0), [1, h, w, 1]), [32, 32], false, true).dataSync());
  const mn = Math.min(...up);
  const mx = Math.max(...up);
  return Float32Array.from(up, (v) => (mx > mn ? (v - mn) / (mx - mn) : 0));
}

describe('layerThumbnails', () => {
  it('gives one Grad-CAM per candidate layer, in order, at full size equal to a hand computation', async () => {
    const before = tf.memory().numTensors;
    const seen: string[] = [];
    const thumbs = await layerThumbnails(cam, input, 2, { size: 32, onThumbnail: (t, i, n) => seen.push(`${i + 1}/${n} ${t.layer.name}`) });
    const names = cam.candidateLayers().map((l) => l.name);
    expect(thumbs.map((t) => t.layer.name)).toEqual(names);
    expect(seen[0]).toBe(`1/${names.length} ${names[0]}`);
    for (const layer of ['conv1_relu', 'res2_out', 'res3_out']) {
      const t = thumbs.find((x) => x.layer.name === layer)!;
      expect(t.size).toEqual([32, 32]);
      const ref = handGradCam(layer, 2);
      let d = 0;
      for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(ref[i] - t.map[i]));
      expect(d, layer).toBeLessThan(1e-4);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('all layers in one backward pass equal each layer computed on its own (its own forward and backward pass)', async () => {
    const names = cam.candidateLayers().map((l) => l.name);
    const together = await layerThumbnails(cam, input, 1, { size: 16 });
    for (const [i, name] of names.entries()) {
      const [alone] = await layerThumbnails(cam, input, 1, { size: 16, layers: [name] });
      expect(together[i].layer.name).toBe(name);
      expect(together[i].allZero, name).toBe(alone.allZero);
      let d = 0;
      for (let j = 0; j < alone.map.length; j++) d = Math.max(d, Math.abs(alone.map[j] - together[i].map[j]));
      expect(d, name).toBeLessThan(1e-5);
    }
  });

  it('small thumbnails keep the aspect, a chosen subset, and cancellation between layers', async () => {
    const t = await layerThumbnails(cam, input, 0, { size: 8, layers: ['res3_out'] });
    expect(t).toHaveLength(1);
    expect(t[0].size).toEqual([8, 8]);
    expect(t[0].map).toHaveLength(64);
    const ac = new AbortController();
    const p = layerThumbnails(cam, input, 0, { signal: ac.signal, onThumbnail: () => ac.abort() });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('an input with NaN or of the wrong size is refused with the same message on the one-pass and the per-layer path', async () => {
    const bad = Float32Array.from(input);
    bad[100] = NaN;
    const one = cam.candidateLayers()[0].name;
    await expect(layerThumbnails(cam, bad, 0, { size: 8 })).rejects.toThrow('The input image contains NaN or infinite values');
    await expect(layerThumbnails(cam, bad, 0, { size: 8, layers: [one] })).rejects.toThrow('The input image contains NaN or infinite values');
    await expect(layerThumbnails(cam, input.subarray(3), 0, { size: 8 })).rejects.toThrow('the model needs 32×32×3');
  });
});
