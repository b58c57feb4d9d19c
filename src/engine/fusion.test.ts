/**
 * Fusion-CAM steps 1–5 against the spec's worked 4×4 example (§6, values to 6 decimals) and
 * against the plain-JS reference for degenerate inputs (β sums ≤ 0, constant maps, manual weights).
 */
import { describe, expect, it } from 'vitest';
import { combineStage, fuseStage, type FusionParams, type FusionResult, type Probe } from './fusion';

/** Steps 1–5 in one call, as the session runs them (combineStage, then fuseStage). */
async function fusionCam(gradient: Float32Array, region: Float32Array, params: FusionParams, probe: Probe): Promise<FusionResult> {
  const { tau, ...rest } = params;
  return fuseStage(await combineStage(gradient, region, rest, probe), tau);
}
import { fusion as fusionReference, maxAbsDiff, normalize } from '../test-utils/camReference';
import type { FusionVariant } from './maps';

const Lg = Float32Array.from([0, 0.1, 0.2, 0.3, 0, 0.4, 0.9, 1, 0, 0.3, 0.8, 0.6, 0, 0, 0.1, 0.05]);
const Lr = Float32Array.from([0.1, 0.2, 0.3, 0.2, 0.2, 0.7, 1, 0.8, 0.3, 0.6, 0.9, 0.5, 0, 0.2, 0.3, 0.1]);

const mean = (m: ArrayLike<number>) => Array.from(m).reduce((a, b) => a + b, 0) / m.length;

/** The spec's toy model: p(x ⊙ M) = 0.01 + 0.9·mean(M), p_b = 0.01. */
function toyProbe(calls?: Float32Array[]): Probe {
  return {
    baseline: 0.01,
    probability: async (m) => {
      calls?.push(m);
      return 0.01 + 0.9 * mean(m);
    },
  };
}

const SPEC: Record<string, number[][]> = {
  'reference θ=10': [
    [0.104393, 0.20799, 0.310566, 0.210702],
    [0.205959, 0.699365, 1.0, 0.82372],
    [0.304698, 0.60223, 0.904573, 0.519432],
    [0.0, 0.205959, 0.307857, 0.104901],
  ],
  'xplain θ=10': [
    [0.099736, 0.199777, 0.299816, 0.235583],
    [0.198766, 0.69687, 1.0, 0.859787],
    [0.297091, 0.59693, 0.899983, 0.527285],
    [0.0, 0.198766, 0.298762, 0.099989],
  ],
  'reference θ=50': [
    [0.105103, 0.207266, 0.312187, 0.211969],
    [0.207266, 0.701095, 1.0, 0.825172],
    [0.306488, 0.604205, 0.905263, 0.521416],
    [0.0, 0.207266, 0.306488, 0.105103],
  ],
  'xplain θ=50': [
    [0.099781, 0.198867, 0.299882, 0.23047],
    [0.198867, 0.696852, 1.0, 0.843294],
    [0.297256, 0.596964, 0.900005, 0.517347],
    [0.0, 0.198867, 0.297256, 0.099781],
  ],
};

describe('Fusion-CAM: the docs/method.md §6 worked example (τ = 1)', () => {
  const cases = [
    ['reference', 10],
    ['xplain', 10],
    ['reference', 50],
    ['xplain', 50],
  ] as const;

  it.each(cases)('%s, θ = %i: fusionCam matches the spec to 6 decimals', async (variant, theta) => {
    const r = await fusionCam(Lg, Lr, { theta, tau: 1, variant, weights: { mode: 'auto' } }, toyProbe());
    // the spec prints 6 decimals: ≤ 5e-7 rounding, plus float32 arithmetic
    expect(maxAbsDiff(r.map, SPEC[`${variant} θ=${theta}`].flat())).toBeLessThan(1e-6);
    expect(r.warnings).toEqual([]);
  });

  it.each(cases)('%s, θ = %i: the independent JS reference reproduces the spec too', (variant, theta) => {
    const ref = fusionReference(Lg, Lr, (m) => 0.01 + 0.9 * mean(m), 0.01, theta, 1, variant);
    expect(maxAbsDiff(ref.map, SPEC[`${variant} θ=${theta}`].flat())).toBeLessThan(6e-7);
  });

  it.each(cases)('%s, θ = %i: intermediate maps and every β equal the JS reference', async (variant, theta) => {
    const calls: Float32Array[] = [];
    const stage = await combineStage(Lg, Lr, { theta, variant, weights: { mode: 'auto' } }, toyProbe(calls));
    const ref = fusionReference(Lg, Lr, (m) => 0.01 + 0.9 * mean(m), 0.01, theta, 1, variant);
    expect(stage.threshold).toBeCloseTo(theta === 10 ? 0 : 0.15, 7);
    expect(maxAbsDiff(stage.denoised, ref.denoised)).toBeLessThan(1e-6);
    expect(maxAbsDiff(stage.combined, ref.combined)).toBeLessThan(1e-6);
    expect(stage.betas.baseline).toBe(0.01);
    expect(stage.betas.gradient).toBeCloseTo(ref.betaG, 7);
    expect(stage.betas.region).toBeCloseTo(ref.betaR, 7);
    expect(stage.betas.combined).toBeCloseTo(ref.betaDR, 6);
    // three probe calls (β_g, β_r, β_dr) on exactly the denoised, region and combined maps
    expect(stage.forwardPasses).toBe(3);
    expect(calls).toHaveLength(3);
    expect(calls[0]).toBe(stage.denoised);
    expect(calls[1]).toBe(Lr);
    expect(calls[2]).toBe(stage.combined);
    if (variant === 'reference') {
      const s3 = ref.betaG + ref.betaR + 1e-8;
      expect(stage.betas.gradientStep3).toBeCloseTo(ref.betaG / s3, 7);
      expect(stage.betas.regionStep3).toBeCloseTo(ref.betaR / s3, 7);
      const s4 = ref.betaDR + ref.betaR / s3 + 1e-8;
      expect(stage.betas.combinedStep5).toBeCloseTo(ref.betaDR / s4, 6);
      expect(stage.betas.regionStep5).toBeCloseTo(ref.betaR / s3 / s4, 6);
    } else {
      expect(stage.betas.gradientStep3).toBeCloseTo(ref.betaG, 7);
      expect(stage.betas.combinedStep5).toBeCloseTo(ref.betaDR, 6);
      expect(stage.betas.regionStep5).toBeCloseTo(ref.betaR, 7);
    }
  });

  it('a cached p_c(x ⊙ L_r) saves one probe call and changes nothing', async () => {
    const calls: Float32Array[] = [];
    const pr = 0.01 + 0.9 * mean(Lr);
    const a = await combineStage(Lg, Lr, { theta: 10, variant: 'reference', weights: { mode: 'auto' } }, toyProbe(calls), pr);
    expect(a.forwardPasses).toBe(2);
    expect(calls).toHaveLength(2);
    expect(maxAbsDiff(fuseStage(a, 1).map, SPEC['reference θ=10'].flat())).toBeLessThan(1e-6);
  });

  it('τ only enters step 5: fuseStage with another τ equals a JS recomputation of step 5', async () => {
    const stage = await combineStage(Lg, Lr, { theta: 10, variant: 'reference', weights: { mode: 'auto' } }, toyProbe());
    for (const tau of [0.05, 0.3, 2]) {
      const ref = fusionReference(Lg, Lr, (m) => 0.01 + 0.9 * mean(m), 0.01, 10, tau, 'reference');
      expect(maxAbsDiff(fuseStage(stage, tau).map, ref.map)).toBeLessThan(1e-6);
    }
    // a tiny τ makes sim = 0 almost everywhere (plain average), a huge one sim = 1 (max)
    const b = stage.betas;
    const avg = normalize(Array.from(stage.combined, (v, i) => (b.combinedStep5 * v + b.regionStep5 * Lr[i]) / 2), 'reference');
    const mx = normalize(Array.from(stage.combined, (v, i) => Math.max(b.combinedStep5 * v, b.regionStep5 * Lr[i])), 'reference');
    expect(maxAbsDiff(fuseStage(stage, 1e-9).map, avg)).toBeLessThan(1e-6);
    expect(maxAbsDiff(fuseStage(stage, 1e9).map, mx)).toBeLessThan(1e-6);
  });

  it('rejects θ outside [0, 100) and τ ≤ 0 with a clear message', async () => {
    await expect(combineStage(Lg, Lr, { theta: 100, variant: 'reference', weights: { mode: 'auto' } }, toyProbe())).rejects.toThrow(/θ must be in \[0, 100\)/);
    await expect(combineStage(Lg, Lr, { theta: -1, variant: 'reference', weights: { mode: 'auto' } }, toyProbe())).rejects.toThrow(/θ/);
    const stage = await combineStage(Lg, Lr, { theta: 10, variant: 'reference', weights: { mode: 'auto' } }, toyProbe());
    expect(() => fuseStage(stage, 0)).toThrow(/τ/);
    expect(() => fuseStage(stage, Number.NaN)).toThrow(/τ/);
  });
});

describe('Fusion-CAM: manual contribution weights', () => {
  it.each(['reference', 'xplain'] as FusionVariant[])('%s: step 3 uses γ and 1 − γ instead of the βs', async (variant) => {
    const gamma = 0.3;
    const stage = await combineStage(Lg, Lr, { theta: 10, variant, weights: { mode: 'manual', gradientShare: gamma } }, toyProbe());
    expect(stage.betas.gradientStep3).toBe(gamma);
    expect(stage.betas.regionStep3).toBeCloseTo(1 - gamma, 12);
    const expected = normalize(Array.from(stage.denoised, (v, i) => gamma * v + (1 - gamma) * Lr[i]), variant);
    expect(maxAbsDiff(stage.combined, expected)).toBeLessThan(1e-6);
    await expect(combineStage(Lg, Lr, { theta: 10, variant, weights: { mode: 'manual', gradientShare: 1.5 } }, toyProbe())).rejects.toThrow(/γ/);
  });
});

describe('Fusion-CAM: degenerate cases (no NaN, reported)', () => {
  /** Masking lowers the score: both β are negative, so β_g + β_r < 0. */
  const falling: Probe = { baseline: 0.5, probability: async (m) => 0.5 - 0.4 * mean(m) };

  it.each(['reference', 'xplain'] as FusionVariant[])('%s: β sums ≤ 0 give a warning, finite maps equal to the JS reference', async (variant) => {
    const r = await fusionCam(Lg, Lr, { theta: 10, tau: 1, variant, weights: { mode: 'auto' } }, falling);
    const ref = fusionReference(Lg, Lr, (m) => 0.5 - 0.4 * mean(m), 0.5, 10, 1, variant);
    expect(r.betas.gradient).toBeLessThan(0);
    expect(r.betas.region).toBeLessThan(0);
    expect(r.map.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(r.map, ref.map)).toBeLessThan(1e-6);
    expect(maxAbsDiff(r.combined, ref.combined)).toBeLessThan(1e-6);
    if (variant === 'reference') expect(r.warnings.join('\n')).toMatch(/β_g \+ β_r = .* ≤ 0/);
  });

  it.each(['reference', 'xplain'] as FusionVariant[])('%s: an all-zero gradient map gives a warning and finite maps', async (variant) => {
    const zero = new Float32Array(16);
    const r = await fusionCam(zero, Lr, { theta: 10, tau: 1, variant, weights: { mode: 'auto' } }, toyProbe());
    const ref = fusionReference(zero, Lr, (m) => 0.01 + 0.9 * mean(m), 0.01, 10, 1, variant);
    expect(r.warnings.join('\n')).toMatch(/gradient map is all zero/);
    expect(r.betas.gradient).toBe(0);
    expect(r.map.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(r.map, ref.map)).toBeLessThan(1e-6);
  });

  it.each(['reference', 'xplain'] as FusionVariant[])('%s: constant maps everywhere give warnings, zeros, no NaN', async (variant) => {
    const zero = new Float32Array(16);
    const r = await fusionCam(zero, zero, { theta: 10, tau: 1, variant, weights: { mode: 'auto' } }, toyProbe());
    expect(r.map.every((v) => v === 0)).toBe(true);
    expect(Object.values(r.betas).every(Number.isFinite)).toBe(true);
    expect(r.warnings.join('\n')).toMatch(/region map is constant/);
    expect(r.warnings.join('\n')).toMatch(/Fusion-CAM map is constant/);
  });
});
