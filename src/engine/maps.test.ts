/**
 * Map operations against hand-worked arrays: percentile (numpy's linear rule), the two
 * normalisations, both denoise rules, the similarity fusion and the JS bilinear resize.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { denoiseGradientMap, isConstant, normalizeMap, percentile, resizeBilinear, similarityFusion } from './maps';
import { maxAbsDiff, upsample } from '../test-utils/camReference';
import { rng, uniform } from '../test-utils/jsnet';
import { useCpuBackend } from '../test-utils/setup';

describe('percentile (numpy linear interpolation)', () => {
  // values worked by hand: r = θ/100·(n−1), P = v⌊r⌋ + (r − ⌊r⌋)(v⌈r⌉ − v⌊r⌋)
  it.each([
    [[1, 2, 3, 4], 0, 1],
    [[1, 2, 3, 4], 10, 1.3],
    [[1, 2, 3, 4], 50, 2.5],
    [[1, 2, 3, 4], 90, 3.7],
    [[1, 2, 3, 4], 100, 4],
    [[4, 1, 3, 2], 25, 1.75], // unsorted input
    [[5, 1, 3], 50, 3], // odd length: the middle value
    [[5, 1, 3], 25, 2],
    [[5, 1, 3], 75, 4],
    [[2, 2, 2, 7], 50, 2], // duplicates
    [[2, 2, 2, 7], 80, 4], // r = 2.4 → 2 + 0.4·5
    [[-3, 10, -1], 50, -1], // negative numbers sort numerically
    [[-10, 9, 100], 60, 27.2], // r = 1.2 → 9 + 0.2·91, not a lexicographic sort
    [[42], 37, 42],
  ])('%j at θ = %d → %d', (values, theta, expected) => {
    expect(percentile(values, theta)).toBeCloseTo(expected, 12);
    expect(percentile(Float32Array.from(values), theta)).toBeCloseTo(expected, 5);
  });

  it('rejects θ outside [0, 100] and empty maps', () => {
    expect(() => percentile([1, 2], -1)).toThrow(/θ/);
    expect(() => percentile([1, 2], 101)).toThrow(/θ/);
    expect(() => percentile([1, 2], Number.NaN)).toThrow(/θ/);
    expect(() => percentile([], 50)).toThrow(/empty/);
  });
});

describe('normalizeMap', () => {
  it('reference: (h − min)/(max − min)', () => {
    expect(Array.from(normalizeMap([2, 4, 6], 'reference'))).toEqual([0, 0.5, 1]);
    expect(Array.from(normalizeMap([-1, 0, 3], 'reference'))).toEqual([0, 0.25, 1]);
  });
  it('reference: a constant map becomes all zeros', () => {
    expect(Array.from(normalizeMap([3, 3, 3], 'reference'))).toEqual([0, 0, 0]);
    expect(Array.from(normalizeMap([0, 0], 'reference'))).toEqual([0, 0]);
  });
  it('xplain: divides by (max − min + 1e-8), which shows on a tiny range', () => {
    // range 1e-8: reference → [0, 1]; xplain → 1e-8/(2e-8) = 0.5
    expect(normalizeMap([0, 1e-8], 'reference')[1]).toBeCloseTo(1, 6);
    expect(normalizeMap([0, 1e-8], 'xplain')[1]).toBeCloseTo(0.5, 6);
    expect(Array.from(normalizeMap([3, 3], 'xplain'))).toEqual([0, 0]);
    expect(normalizeMap([2, 4, 6], 'xplain')[1]).toBeCloseTo(0.5, 6);
  });
});

describe('denoiseGradientMap (Fusion-CAM step 1)', () => {
  const m = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]);
  it('reference: zero pixels < P_θ, then N', () => {
    const { map, threshold } = denoiseGradientMap(m, 50, 'reference');
    expect(threshold).toBeCloseTo(0.3, 6);
    // [0, 0, .3, .4, .5] → N → [0, 0, .6, .8, 1]
    expect(maxAbsDiff(map, [0, 0, 0.6, 0.8, 1])).toBeLessThan(1e-6);
  });
  it('xplain: keep pixels > P_θ, no re-normalisation', () => {
    const { map } = denoiseGradientMap(m, 50, 'xplain');
    expect(maxAbsDiff(map, [0, 0, 0, 0.4, 0.5])).toBeLessThan(1e-7);
  });
  it('reference: θ = 0 skips the threshold but still normalises', () => {
    const { map } = denoiseGradientMap(Float32Array.from([0.2, 0.5, 1]), 0, 'reference');
    expect(maxAbsDiff(map, [0, 0.375, 1])).toBeLessThan(1e-6);
  });
  it('xplain: θ = 0 zeroes the minimum (strictly greater is kept)', () => {
    const { map } = denoiseGradientMap(Float32Array.from([0.2, 0.5, 1]), 0, 'xplain');
    expect(maxAbsDiff(map, [0, 0.5, 1])).toBeLessThan(1e-7);
  });
  it('pixels equal to the threshold: reference keeps them, xplain drops them', () => {
    const tie = Float32Array.from([0, 0.5, 0.5, 1]); // P_50 = 0.5
    expect(maxAbsDiff(denoiseGradientMap(tie, 50, 'reference').map, [0, 0.5, 0.5, 1])).toBeLessThan(1e-7);
    expect(maxAbsDiff(denoiseGradientMap(tie, 50, 'xplain').map, [0, 0, 0, 1])).toBeLessThan(1e-7);
  });
});

describe('similarityFusion (Fusion-CAM step 5)', () => {
  it('matches a hand computation', () => {
    // L1 = 0.5·[1, .2, .6], L2 = 1·[0, .2, .9], τ = 0.5
    // d = [.5, .1, .6] → sim = [0, .8, 0]
    // F = [(.5+0)/2, .8·.2 + .2·(.1+.2)/2, (.3+.9)/2] = [.25, .19, .6] → N → [.15/.41·…]
    const F = [0.25, 0.8 * 0.2 + 0.2 * 0.15, 0.6];
    const expected = F.map((v) => (v - 0.19) / (0.6 - 0.19));
    const got = similarityFusion(Float32Array.from([1, 0.2, 0.6]), 0.5, Float32Array.from([0, 0.2, 0.9]), 1, 0.5, 'reference');
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-6);
  });

  // the spec's formula as a plain loop, then N(F): the one-pass version must give the same float32 bits
  const plainStep5 = (c: Float32Array, bc: number, r: Float32Array, br: number, tau: number, variant: 'reference' | 'xplain') => {
    const F = new Float32Array(c.length);
    for (let i = 0; i < c.length; i++) {
      const l1 = Math.fround(c[i] * bc);
      const l2 = Math.fround(r[i] * br);
      const sim = Math.min(1, Math.max(0, 1 - Math.abs(l1 - l2) / tau));
      F[i] = sim * Math.max(l1, l2) + ((1 - sim) * (l1 + l2)) / 2;
    }
    return normalizeMap(F, variant);
  };
  it.each(['reference', 'xplain'] as const)('%s: bit-identical to the plain loop followed by N (random maps, τ from 0.05 to 2, constant and NaN cases)', (variant) => {
    const rand = rng(11);
    for (const tau of [0.05, 0.3, 1, 2]) {
      const c = Float32Array.from(uniform(3000, 1, rand));
      const r = Float32Array.from(uniform(3000, 1, rand));
      const bc = 0.2 + rand();
      const br = -0.3 + rand();
      expect(Array.from(similarityFusion(c, bc, r, br, tau, variant))).toEqual(Array.from(plainStep5(c, bc, r, br, tau, variant)));
    }
    const flat = new Float32Array(50).fill(0.4);
    const constant = similarityFusion(flat, 0.5, flat, 0.5, 1, variant);
    expect(Array.from(constant)).toEqual(Array.from(plainStep5(flat, 0.5, flat, 0.5, 1, variant)));
    expect(constant.every((v) => v === 0)).toBe(true);
    const withNaN = Float32Array.from([0.1, Number.NaN, 0.9, 0.5]);
    const got = similarityFusion(withNaN, 1, Float32Array.from([0.2, 0.2, 0.2, 0.2]), 1, 1, variant);
    expect(Number.isNaN(got[1])).toBe(true);
    expect([got[0], got[2], got[3]]).toEqual([0, 2, 3].map((i) => plainStep5(withNaN, 1, Float32Array.from([0.2, 0.2, 0.2, 0.2]), 1, 1, variant)[i]));
  });
});

describe('resizeBilinear (JS, half-pixel centres)', () => {
  it('upsamples a 2×2 as worked by hand', () => {
    // 2×2 → 4×4: output centres map to −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
    const got = resizeBilinear([0, 4, 8, 12], 2, 2, 4, 4);
    const row = (a: number, b: number) => [a, a + (b - a) * 0.25, a + (b - a) * 0.75, b];
    const r0 = row(0, 4);
    const r1 = row(8, 12);
    const expected = [0, 0.25, 0.75, 1].flatMap((t) => r0.map((v, i) => v + (r1[i] - v) * t));
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-6);
  });

  it('equals tf.image.resizeBilinear(half-pixel) and the test reference on random non-square maps', async () => {
    await useCpuBackend();
    const rand = rng(5);
    for (const [h, w, H, W] of [
      [7, 5, 14, 10],
      [6, 4, 14, 10],
      [3, 9, 13, 7],
      [8, 8, 5, 3],
    ]) {
      const src = uniform(h * w, 1, rand);
      const got = resizeBilinear(src, h, w, H, W);
      const t = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(Float32Array.from(src), [1, h, w, 1]), [H, W], false, true));
      expect(maxAbsDiff(got, t.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(got, upsample(src, h, w, H, W))).toBeLessThan(1e-6);
      t.dispose();
    }
  });
});

describe('isConstant', () => {
  it('is true only when max equals min', () => {
    expect(isConstant([1, 1, 1])).toBe(true);
    expect(isConstant([0, 0, 1e-30])).toBe(false);
  });
});
