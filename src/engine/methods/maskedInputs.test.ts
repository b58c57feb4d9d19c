/**
 * Score-CAM's batched masked inputs (matmul upsampling, extremes from the cell-boundary rows)
 * must equal the spec's masks computed naively in float64 JS: N(Up(A_k)) (reference, original)
 * and Up(N(A_k)) (xplain), times x, for integer and non-integer scales.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../node/backend';
import { MaskedInputBuilder, interpolationAxis } from './maskedInputs';
import { normalize, upsample } from '../../test-utils/camReference';
import { rng } from '../../test-utils/jsnet';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

const cases: { h: number; w: number; H: number; W: number }[] = [
  { h: 7, w: 7, H: 224, W: 224 }, // MobileNet at 224
  { h: 5, w: 3, H: 14, W: 10 }, // non-integer scales
  { h: 13, w: 13, H: 416, W: 416 }, // Darknet-tiny
  { h: 6, w: 9, H: 6, W: 9 }, // same size
];

describe('MaskedInputBuilder', () => {
  for (const { h, w, H, W } of cases) {
    it(`${h}×${w} → ${H}×${W}: x ⊙ H_k equals the float64 JS masks for every variant`, () => {
      const K = 6;
      const A = randomArray(h * w * K, h * 31 + w);
      // one channel with a sharp single peak (its maximum is between output samples)
      for (let i = 0; i < h * w; i++) A[i * K + 2] = i === Math.floor((h * w) / 2) ? 3 : 0.1;
      const x = randomArray(H * W * 3, 7);
      const At = tf.tensor4d(A, [1, h, w, K]);
      const xt = tf.tensor4d(x, [1, H, W, 3]);
      const channels = [4, 0, 2, 5];
      for (const normalization of ['after-upsampling', 'before-upsampling'] as const) {
        const before = tf.memory().numTensors;
        const builder = new MaskedInputBuilder(xt, At, normalization);
        const out = builder.maskedInputs(channels);
        expect(out.shape).toEqual([channels.length, H, W, 3]);
        const got = out.dataSync();
        let maxDiff = 0;
        channels.forEach((k, b) => {
          const Ak = Float64Array.from({ length: h * w }, (_, i) => A[i * K + k]);
          const mask =
            normalization === 'after-upsampling' ? normalize(upsample(Ak, h, w, H, W), 'reference') : upsample(normalize(Ak, 'xplain'), h, w, H, W);
          for (let p = 0; p < H * W; p++)
            for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(got[(b * H * W + p) * 3 + c] - mask[p] * x[p * 3 + c]));
        });
        expect(maxDiff).toBeLessThan(2e-6);
        out.dispose();
        builder.dispose();
        expect(tf.memory().numTensors).toBe(before);
      }
      tf.dispose([At, xt]);
    });
  }

  it('masks of a normalised-after-upsampling channel span exactly [0, 1]', () => {
    const [h, w, H, W] = [7, 7, 224, 224];
    const A = tf.tensor4d(randomArray(h * w * 3, 3), [1, h, w, 3]);
    const x = tf.ones([1, H, W, 3]) as tf.Tensor4D;
    const builder = new MaskedInputBuilder(x, A, 'after-upsampling');
    const m = builder.masks([0, 1, 2]);
    const [mn, mx] = [tf.min(m).dataSync()[0], tf.max(m).dataSync()[0]];
    expect(Math.abs(mn)).toBeLessThan(1e-6);
    expect(Math.abs(mx - 1)).toBeLessThan(1e-6);
    tf.dispose([A, x, m]);
    builder.dispose();
  });

  it('interpolation rows sum to 1 and keep the boundary rows of every cell', () => {
    const { weights, extremeRows } = interpolationAxis(7, 224);
    for (let o = 0; o < 224; o++) {
      let s = 0;
      for (let i = 0; i < 7; i++) s += weights[o * 7 + i];
      expect(Math.abs(s - 1)).toBeLessThan(1e-6);
    }
    // rows 0..15 clamp to input 0, then 6 cells of 32 rows, then 16 rows clamped to input 6
    expect(extremeRows).toEqual([0, 15, 16, 47, 48, 79, 80, 111, 112, 143, 144, 175, 176, 207, 208, 223]);
  });
});
