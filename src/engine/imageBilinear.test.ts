import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { resizeRgbBilinearTf, toModelInput, type RgbImage } from './image';
import { PREPROCESSING } from './model/descriptor';

function randomImage(w: number, h: number, channels: 3 | 4, seed: number): RgbImage {
  let s = seed;
  const data = new Uint8Array(w * h * channels);
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = s % 256;
  }
  return { width: w, height: h, data, channels };
}

describe("resizeRgbBilinearTf (the app's and CLI's default resize)", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each([
    [227, 227, 224, 224, 4],
    [500, 375, 224, 224, 4],
    [31, 17, 224, 224, 3],
    [224, 224, 224, 224, 3],
    [9, 640, 224, 160, 4],
  ] as const)('equals tf.image.resizeBilinear defaults for %i×%i → %i×%i', (w, h, W, H, ch) => {
    const img = randomImage(w, h, ch, w * 31 + h);
    const rgb = tf.tidy(() => tf.slice(tf.tensor3d(Float32Array.from(img.data), [h, w, ch]), [0, 0, 0], [-1, -1, 3]) as tf.Tensor3D);
    const want = tf.image.resizeBilinear(rgb, [H, W]).dataSync();
    const got = resizeRgbBilinearTf(img, W, H);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]));
    expect(worst).toBeLessThan(1e-3);
  });

  it('hand-worked 2×1 → 4×1: source x = dst·in/out, right neighbour clamped', () => {
    // in = [0, 100] (grey); out x = 0, 0.5, 1, 1.5 → 0, 50, 100, 100
    const img: RgbImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([0, 0, 0, 100, 100, 100]) };
    const out = resizeRgbBilinearTf(img, 4, 1);
    expect(Array.from(out.filter((_, i) => i % 3 === 0))).toEqual([0, 50, 100, 100]);
  });

  it('toModelInput applies the preprocessing to the float pixels (MobileNet: /127.5 − 1)', () => {
    const img: RgbImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([0, 0, 0, 255, 255, 255]) };
    const { input, rgb } = toModelInput(img, [1, 4], PREPROCESSING.mobilenet);
    expect(Array.from(input.filter((_, i) => i % 3 === 0)).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([-1, 0, 1, 1]);
    expect(Array.from(rgb.filter((_, i) => i % 3 === 0))).toEqual([0, 128, 255, 255]);
  });
});
