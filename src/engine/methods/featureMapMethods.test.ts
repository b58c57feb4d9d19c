/**
 * EigenCAM and HiResCAM against hand-worked arrays and an independent float64 computation
 * (power iteration, written in the test utilities from the definition alone).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend } from '../../test-utils/setup';
import * as ref from '../../test-utils/camReference';
import { eigenCam, firstPrincipalProjection } from './eigenCam';
import { hiResCam } from './hiResCam';
import { GRADIENT_METHODS, METHODS } from './registry';
import { gradientMapFromSaliency } from '../session';

beforeAll(useCpuBackend);

const SQRT2 = Math.SQRT2;

function randomTensor(shape: [number, number, number], seed: number): { shape: [number, number, number]; data: Float64Array } {
  let s = seed;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  return { shape, data: Float64Array.from({ length: shape[0] * shape[1] * shape[2] }, () => Math.max(0, rnd() * 2 - 0.6)) };
}

describe('EigenCAM: projection on the first principal component', () => {
  it('2×2 positions × 2 channels, worked by hand: (3,1), (1,3), (0,0), (0,0)', () => {
    // mean (1, 1); centred X = (2,0), (0,2), (−1,−1), (−1,−1); XᵀX = [[6, 2], [2, 6]]:
    // eigenvalues 8 (v = (1,1)/√2) and 4; projection X·v = (√2, √2, −√2, −√2)
    const A = [3, 1, 1, 3, 0, 0, 0, 0];
    const p = firstPrincipalProjection(A, 4, 2);
    [SQRT2, SQRT2, -SQRT2, -SQRT2].forEach((want, i) => expect(p[i]).toBeCloseTo(want, 12));
  });

  it('more channels than positions (the Gram matrix of positions is used), by hand: 2 positions × 3 channels', () => {
    // (1,0,0), (0,1,1): centred ±(0.5, −0.5, −0.5); v = (−1, 1, 1)/√3 (positive sum); X·v = ∓√3/2
    const p = firstPrincipalProjection([1, 0, 0, 0, 1, 1], 2, 3);
    expect(p[0]).toBeCloseTo(-Math.sqrt(3) / 2, 12);
    expect(p[1]).toBeCloseTo(Math.sqrt(3) / 2, 12);
  });

  it('sign: the same component taken with the positive sum whichever way the data lies', () => {
    // negating every channel flips the centred data, so the principal direction is the same line;
    // with the sign rule the projection flips with it (it is not forced positive)
    const A = [3, 1, 1, 3, 0, 0, 0, 0];
    const neg = A.map((v) => -v);
    const p = firstPrincipalProjection(A, 4, 2);
    const q = firstPrincipalProjection(neg, 4, 2);
    p.forEach((v, i) => expect(q[i]).toBeCloseTo(-v, 12));
  });

  it('constant activations give an all-zero projection (no NaN)', () => {
    const p = firstPrincipalProjection(new Float64Array(3 * 3 * 4).fill(2), 9, 4);
    expect(Array.from(p)).toEqual(new Array(9).fill(0));
  });

  it.each([
    ['K < h·w', [5, 4, 6] as [number, number, number]],
    ['K > h·w', [3, 3, 16] as [number, number, number]],
  ])('%s: equals power iteration on XᵀX in float64', (_, shape) => {
    const A = randomTensor(shape, 7 + shape[2]);
    const got = firstPrincipalProjection(A.data, shape[0] * shape[1], shape[2]);
    const want = ref.principalProjection(A);
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(ref.maxAbsDiff(got, want) / scale).toBeLessThan(1e-9);
  });

  it('the map: N(Up(ReLU(projection))): ReLU at feature resolution, then upsample, then N', async () => {
    const A = randomTensor([4, 4, 5], 3);
    const t = tf.tensor3d(Float32Array.from(A.data), A.shape);
    const sal = await eigenCam.saliency({ A: t, gradients: () => { throw new Error('EigenCAM asked for gradients'); } });
    const got = await gradientMapFromSaliency(sal, [9, 9], eigenCam.label, 'eigencam', 'reference');
    const want = ref.normalize(ref.upsample(ref.relu(ref.principalProjection({ shape: A.shape, data: Float64Array.from(Float32Array.from(A.data)) })), 4, 4, 9, 9), 'reference');
    expect(ref.maxAbsDiff(got.map, want)).toBeLessThan(1e-5);
    sal.dispose();
    t.dispose();
  });

  it('declares no gradient and no forward pass', () => {
    expect(eigenCam.needs).toEqual({ gradients: false, forwardPasses: false });
    expect(eigenCam.family).toBe('activation');
  });
});

describe('HiResCAM: Σ_k g_k ⊙ A_k', () => {
  it('2×1 positions × 2 channels, by hand', async () => {
    // A = (1, 2), (3, −1); g = (0.5, −1), (2, 4): saliency = 0.5 − 2 = −1.5, 6 − 4 = 2
    const A = tf.tensor3d([1, 2, 3, -1], [2, 1, 2]);
    const g = tf.tensor3d([0.5, -1, 2, 4], [2, 1, 2]);
    const sal = (await hiResCam.saliency({ A, gradients: () => g })) as tf.Tensor2D;
    expect(Array.from(await sal.data())).toEqual([-1.5, 2]);
    // the tail: ReLU → (0, 2) → N → (0, 1) at the same size
    const map = await gradientMapFromSaliency(sal, [2, 1], hiResCam.label, 'hirescam', 'reference');
    expect(Array.from(map.map)).toEqual([0, 1]);
    [A, g, sal].forEach((t) => t.dispose());
  });

  it('differs from Grad-CAM where the gradient varies over positions (no averaging)', async () => {
    const A = tf.tensor3d([1, 1], [2, 1, 1]);
    const g = tf.tensor3d([1, -1], [2, 1, 1]);
    const hires = (await hiResCam.saliency({ A, gradients: () => g })) as tf.Tensor2D;
    const grad = (await GRADIENT_METHODS.gradcam.saliency({ A, gradients: () => g })) as tf.Tensor2D;
    expect(Array.from(await hires.data())).toEqual([1, -1]);
    expect(Array.from(await grad.data())).toEqual([0, 0]);
    [A, g, hires, grad].forEach((t) => t.dispose());
  });
});

describe('the registry', () => {
  it('has each id once, and every method declares a family and its needs', () => {
    const ids = METHODS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of METHODS) {
      expect(['gradient', 'activation', 'region', 'fusion']).toContain(m.family);
      expect(typeof m.needs.gradients).toBe('boolean');
      expect(m.label.length).toBeGreaterThan(0);
    }
  });
});
