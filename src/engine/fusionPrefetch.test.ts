import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../node/backend';
import { CamModel } from './model/camModel';
import { smallResNetCam } from './model/testing/generatedNets';
import { ExplanationSession } from './session';
import type { FusionParams } from './fusion';

// θ changes scored ahead by a second worker: a helper session computes the masked probabilities
// of steps 1–4 for many θ in batches; the main session is seeded with them and then answers
// those θ with no forward pass, with the same result as computing each θ on its own.
let cam: CamModel;
let input: Float32Array;
beforeAll(async () => {
  await initNodeBackend('cpu');
  ({ cam, input } = smallResNetCam());
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('θ stages scored ahead (fusionStageProbabilities → seedFusionStages)', () => {
  for (const variant of ['reference', 'xplain'] as const) {
    it(`${variant}: seeded θ run no forward pass and equal θ computed one at a time`, async () => {
      const before = tf.memory().numTensors;
      const c = 1;
      const base: Omit<FusionParams, 'theta' | 'tau'> = { variant, weights: { mode: 'auto' } };
      const opts = { variant, batchSize: 4 };
      const main = await ExplanationSession.create(cam, input);
      await main.fusion(c, { ...base, theta: 10, tau: 1 }, opts);

      // the helper: its own session on the same model and input, given the main session's maps
      const helper = await ExplanationSession.create(cam, input);
      const grad = await main.gradientMap(c, 'gradcam', variant);
      const region = await main.regionMap(c, opts);
      const baseline = await main.baselineProbability(c);
      const regionProbability = await main.maskedProbability(c, region.map);
      const thetas = [0, 25, 50, 75, 90, 99];
      const passes0 = helper.forwardPasses;
      const answers = await helper.fusionStageProbabilities(c, { gradient: grad.map, region: region.map, baseline, regionProbability }, base, thetas, 4);
      expect(helper.forwardPasses - passes0).toBe(2 * thetas.length);
      expect(answers.map((a) => a.probabilities.length)).toEqual(thetas.map(() => 2));

      main.seedFusionStages(c, base, opts, answers);
      const passes1 = main.forwardPasses;
      const fresh = await ExplanationSession.create(cam, input);
      for (const theta of thetas) {
        const seeded = await main.fusion(c, { ...base, theta, tau: 0.8 }, opts);
        const alone = await fresh.fusion(c, { ...base, theta, tau: 0.8 }, opts);
        expect(maxDiff(seeded.map, alone.map), `θ ${theta}`).toBeLessThan(1e-5);
        expect(maxDiff(seeded.combined, alone.combined), `θ ${theta}`).toBeLessThan(1e-5);
        expect(seeded.betas.gradient).toBeCloseTo(alone.betas.gradient, 6);
        expect(seeded.betas.combined).toBeCloseTo(alone.betas.combined, 6);
        expect(seeded.threshold).toBe(alone.threshold);
      }
      expect(main.forwardPasses).toBe(passes1);
      // a θ nobody scored ahead still costs its two passes
      await main.fusion(c, { ...base, theta: 40, tau: 1 }, opts);
      expect(main.forwardPasses).toBe(passes1 + 2);
      [main, helper, fresh].forEach((s) => s.dispose());
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('a seeded θ whose stage left the cache (more than 64 visited) is rebuilt with no pass', async () => {
    const c = 2;
    const base: Omit<FusionParams, 'theta' | 'tau'> = { variant: 'reference', weights: { mode: 'auto' } };
    const opts = { variant: 'reference' as const, batchSize: 8 };
    const main = await ExplanationSession.create(cam, input);
    await main.fusion(c, { ...base, theta: 10, tau: 1 }, opts);
    const helper = await ExplanationSession.create(cam, input);
    const region = await main.regionMap(c, opts);
    const maps = { gradient: (await main.gradientMap(c, 'gradcam', 'reference')).map, region: region.map, baseline: await main.baselineProbability(c), regionProbability: await main.maskedProbability(c, region.map) };
    const thetas = Array.from({ length: 100 }, (_, t) => t).filter((t) => t !== 10);
    main.seedFusionStages(c, base, opts, await helper.fusionStageProbabilities(c, maps, base, thetas, 16));
    const passes = main.forwardPasses;
    const first = await main.fusion(c, { ...base, theta: 0, tau: 1 }, opts);
    for (const theta of thetas) await main.fusion(c, { ...base, theta, tau: 1 }, opts);
    const again = await main.fusion(c, { ...base, theta: 0, tau: 1 }, opts);
    expect(main.forwardPasses).toBe(passes);
    expect(maxDiff(first.map, again.map)).toBe(0);
    main.dispose();
    helper.dispose();
  });

  it('batched masked probabilities equal one batch-1 pass per mask', async () => {
    const s = await ExplanationSession.create(cam, input);
    const masks = Array.from({ length: 5 }, (_, k) => Float32Array.from({ length: 32 * 32 }, (_, i) => ((i * (k + 3)) % 17) / 16));
    const batched = await s.maskedProbabilities(2, masks, 2);
    for (const [k, m] of masks.entries()) expect(batched[k]).toBeCloseTo(await s.maskedProbability(2, m), 6);
    s.dispose();
  });
});
