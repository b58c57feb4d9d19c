/**
 * Group-CAM, Ablation-CAM, Union-CAM and fusion of any gradient map with any region map, on a
 * tiny random conv net (cpu backend), against naive one-at-a-time plain-JS loops written from
 * the spec. The network itself is only used as the black box being explained (single-image
 * forward passes); every step of each method is recomputed here in float64.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { CamModel } from '../model/camModel';
import { PREPROCESSING } from '../model/descriptor';
import { ExplanationSession } from '../session';
import { DEFAULT_FUSION_PARAMS } from '../fusion';
import { initNodeBackend } from '../../node/backend';
import type { GradientMethodId } from './gradient';
import type { RegionMethodId, RegionVariant } from './region';

const S = 16; // input S×S×3
const K = 40; // target channels: 32 groups do not divide 40, so torch.chunk gives 20 groups of 2
const LAYER = 'feat';

let model: CamModel;
let input: Float32Array;

function seeded(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a / 2 ** 31 - 1;
  }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  (tf.findBackend('cpu') as unknown as { firstUse: boolean }).firstUse = false;
  const init = (seed: number, scale: number) => tfl.initializers.randomUniform({ minval: -scale, maxval: scale, seed });
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [S, S, 3], filters: 12, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(1, 0.5), biasInitializer: init(2, 0.1) }),
      tfl.layers.conv2d({ filters: K, kernelSize: 3, padding: 'same', activation: 'relu', name: LAYER, kernelInitializer: init(3, 0.35), biasInitializer: init(4, 0.1) }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 1, activation: 'relu', kernelInitializer: init(5, 0.5), biasInitializer: init(6, 0.1) }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 6, activation: 'softmax', kernelInitializer: init(7, 2.5), biasInitializer: init(8, 0.2) }),
    ],
  });
  model = new CamModel(m, { id: 'tiny', name: 'tiny', url: '', preprocessing: PREPROCESSING.raw });
  input = seeded(S * S * 3, 11);
  // the logits twin of the softmax layer gets its weights on first use: not a per-run tensor
  tf.dispose(model.logits(tf.zeros([1, S, S, 3])));
});

afterAll(() => model?.dispose());

// ---------- plain-JS helpers, written from the spec ----------
function upsample(src: ArrayLike<number>, h: number, w: number, H: number, W: number): Float64Array {
  const out = new Float64Array(H * W);
  const at = (y: number, x: number) => src[Math.min(h - 1, y) * w + Math.min(w - 1, x)];
  for (let Y = 0; Y < H; Y++)
    for (let X = 0; X < W; X++) {
      const sy = Math.max(0, ((Y + 0.5) * h) / H - 0.5);
      const sx = Math.max(0, ((X + 0.5) * w) / W - 0.5);
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const fy = sy - y0;
      const fx = sx - x0;
      out[Y * W + X] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
    }
  return out;
}
function norm(a: ArrayLike<number>, eps: boolean): Float64Array {
  const mn = Math.min(...Array.from(a));
  const mx = Math.max(...Array.from(a));
  return Float64Array.from(a, (v) => (eps ? (v - mn) / (mx - mn + 1e-8) : mx - mn > 0 ? (v - mn) / (mx - mn) : v - mn));
}
const relu = (a: ArrayLike<number>) => Float64Array.from(a, (v) => Math.max(0, v));
function percentile(a: ArrayLike<number>, q: number): number {
  const v = Array.from(a).sort((x, y) => x - y);
  const r = (q / 100) * (v.length - 1);
  return v[Math.floor(r)] + (r - Math.floor(r)) * (v[Math.ceil(r)] - v[Math.floor(r)]);
}
function blur(img: ArrayLike<number>, H: number, W: number, k: number, sigma: number): Float64Array {
  const r = Math.floor(k / 2);
  const mirror = (i: number, n: number) => {
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  let sum = 0;
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) sum += Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
  const out = new Float64Array(H * W * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++) {
          const wgt = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)) / sum;
          const p = (mirror(y + dy, H) * W + mirror(x + dx, W)) * 3;
          for (let ch = 0; ch < 3; ch++) out[(y * W + x) * 3 + ch] += wgt * img[p + ch];
        }
  return out;
}
/** p_c of one image (H·W·3 values) through the model: one forward pass, softmax in JS. */
function prob(img: ArrayLike<number>, c: number): number {
  const z = tf.tidy(() => model.logits(tf.tensor4d(Float32Array.from(img), [1, S, S, 3])));
  const d = Array.from(z.dataSync());
  z.dispose();
  const mx = Math.max(...d);
  const e = d.map((v) => Math.exp(v - mx));
  return e[c] / e.reduce((p, q) => p + q);
}
const masked = (m: ArrayLike<number>) => Float64Array.from(input, (v, i) => v * m[Math.floor(i / 3)]);
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function withSession<T>(fn: (s: ExplanationSession) => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const s = await ExplanationSession.create(model, input, LAYER);
  try {
    return await fn(s);
  } finally {
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }
}

function activations(s: ExplanationSession, c: number): { A: Float32Array; g: Float32Array; h: number; w: number } {
  const [, h, w] = s.A.shape;
  return { A: s.A.dataSync() as Float32Array, g: s.gradients(c).dataSync() as Float32Array, h, w };
}

describe('Group-CAM', () => {
  it.each(['reference', 'xplain'] as RegionVariant[])('equals a naive per-group loop (%s)', async (variant) => {
    await withSession(async (s) => {
      const c = s.predictedClass;
      const got = await s.regionMap(c, { method: 'groupcam', variant, batchSize: 3 });
      const { A, g, h, w } = activations(s, c);
      const alpha = Array.from({ length: K }, (_, k) => {
        let t = 0;
        for (let i = 0; i < h * w; i++) t += g[i * K + k];
        return t / (h * w);
      });
      const size = Math.ceil(K / 32);
      const G = Math.ceil(K / size);
      const blurred = blur(input, S, S, 51, variant === 'reference' ? 25 : 50);
      const pBlur = prob(blurred, c);
      const acc = new Float64Array(S * S);
      const scores: number[] = [];
      for (let l = 0; l < G; l++) {
        const M = new Float64Array(h * w);
        for (let k = l * size; k < Math.min(K, (l + 1) * size); k++) for (let i = 0; i < h * w; i++) M[i] += alpha[k] * A[i * K + k];
        const U = upsample(relu(M), h, w, S, S);
        const Un = norm(U, variant !== 'reference');
        const mix = Float64Array.from(input, (v, i) => Un[Math.floor(i / 3)] * v + (1 - Un[Math.floor(i / 3)]) * blurred[i]);
        const sl = Math.max(0, prob(mix, c) - pBlur);
        scores.push(sl);
        const contrib = variant === 'reference' ? Un : U;
        for (let i = 0; i < S * S; i++) acc[i] += sl * contrib[i];
      }
      const want = variant === 'reference' ? norm(relu(acc), false) : norm(acc, true);
      expect(got.scores.length).toBe(20);
      expect(maxAbsDiff(got.scores, scores)).toBeLessThan(2e-6);
      expect(scores.some((v) => v > 0)).toBe(true);
      expect(maxAbsDiff(got.map, want)).toBeLessThan(2e-4);
    });
  });

});

describe('cancelling', () => {
  it.each(['groupcam', 'ablationcam', 'unioncam'] as RegionMethodId[])('%s stops on abort after the first batch and frees everything', async (method) => {
    await withSession(async (s) => {
      const ctl = new AbortController();
      let batches = 0;
      const run = s.regionMap(s.predictedClass, { method, batchSize: 2, signal: ctl.signal, onProgress: () => (batches++, ctl.abort()) });
      await expect(run).rejects.toThrow('Cancelled');
      expect(batches).toBe(1);
      // a cancelled run is not cached: the next call computes
      const again = await s.regionMap(s.predictedClass, { method, batchSize: 8 });
      expect(again.map.length).toBe(S * S);
    });
  });
});

describe('Ablation-CAM', () => {
  it.each(['reference', 'xplain'] as RegionVariant[])('equals a naive one-channel-at-a-time loop (%s)', async (variant) => {
    await withSession(async (s) => {
      const c = (s.predictedClass + 1) % 6; // a non-predicted class too
      let done = 0;
      const got = await s.regionMap(c, { method: 'ablationcam', variant, batchSize: 7, onProgress: (p) => (done = p.done) });
      expect(done).toBe(K);
      const { A, h, w } = activations(s, c);
      const zc = s.logits[c];
      const weights: number[] = [];
      for (let k = 0; k < K; k++) {
        const Ak = Float32Array.from(A, (v, i) => (i % K === k ? 0 : v));
        const z = tf.tidy(() => s.split.head(tf.tensor4d(Ak, [1, h, w, K]), []));
        weights.push((zc - z.dataSync()[c]) / (zc + 1e-8));
        z.dispose();
      }
      const sal = new Float64Array(h * w);
      for (let i = 0; i < h * w; i++) for (let k = 0; k < K; k++) sal[i] += weights[k] * A[i * K + k];
      const up = upsample(relu(sal), h, w, S, S);
      const want = norm(up, false); // xplain divides by (max − min) too when it exceeds 1e-8
      expect(maxAbsDiff(got.scores, weights)).toBeLessThan(1e-4);
      expect(maxAbsDiff(got.map, want)).toBeLessThan(1e-4);
    });
  });
});

describe('Union-CAM', () => {
  it.each(['reference', 'xplain'] as RegionVariant[])('equals the spec’s steps with Score-CAM as L_r (%s)', async (variant) => {
    await withSession(async (s) => {
      const c = s.predictedClass;
      const got = await s.regionMap(c, { method: 'unioncam', variant });
      const passesAfterUnion = s.forwardPasses;
      const Lr0 = (await s.regionMap(c, { method: 'scorecam', variant })).map; // cached: no new passes
      expect(s.forwardPasses).toBe(passesAfterUnion);
      const { A, g, h, w } = activations(s, c);
      const eps = variant !== 'reference';
      const sal = new Float64Array(h * w);
      for (let k = 0; k < K; k++) {
        const gk = Array.from({ length: h * w }, (_, i) => g[i * K + k]);
        const t = percentile(gk, 10);
        const gt = gk.map((v) => (v < t ? 0 : v));
        const Sk = gt.reduce((p, v) => p + Math.max(0, v), 0) + 1e-8;
        for (let i = 0; i < h * w; i++) sal[i] += (Math.max(0, gt[i]) / Sk) * A[i * K + k];
      }
      const Ld = norm(upsample(sal, h, w, S, S), eps);
      const Lr = eps ? Float64Array.from(Lr0) : norm(Lr0, false);
      const pb = prob(new Float64Array(S * S * 3), c);
      const bd = prob(masked(Ld), c) - pb;
      const br = prob(masked(Lr), c) - pb;
      const Ldr = norm(Float64Array.from(Ld, (v, i) => bd * v + br * Lr[i]), eps);
      const bdr = prob(masked(Ldr), c) - pb;
      let want = bdr > br ? Ldr : Lr;
      if (!eps) want = norm(Float64Array.from(want, (v) => v * (bdr > br ? bdr : br)), false);
      expect(got.info?.selected).toBe(bdr > br ? 'combined' : 'region');
      expect(got.info?.betaDenoised as number).toBeCloseTo(bd, 5);
      expect(got.info?.betaCombined as number).toBeCloseTo(bdr, 5);
      expect(maxAbsDiff(got.map, want)).toBeLessThan(2e-4);
    });
  });
});

describe('fusion of any gradient map with any region map', () => {
  const combos: [GradientMethodId, RegionMethodId][] = [
    ['gradcampp', 'groupcam'],
    ['layercam', 'ablationcam'],
    ['xgradcam', 'unioncam'],
    ['gradcam', 'scorecam'],
  ];
  it.each(combos)('%s × %s follows steps 1–5 on those two maps', async (gm, rm) => {
    await withSession(async (s) => {
      const c = s.predictedClass;
      const f = await s.fusion(c, DEFAULT_FUSION_PARAMS, { gradientMethod: gm, method: rm });
      const G = (await s.gradientMap(c, gm)).map;
      const R = (await s.regionMap(c, { method: rm })).map;
      expect(Array.from(f.gradient)).toEqual(Array.from(G));
      expect(Array.from(f.region)).toEqual(Array.from(R));
      // steps 1–5, reference variant, θ = 10, τ = 1
      const t = percentile(G, 10);
      const Gd = norm(Array.from(G, (v) => (v < t ? 0 : v)), false);
      const pb = prob(new Float64Array(S * S * 3), c);
      const bg = prob(masked(Gd), c) - pb;
      const br = prob(masked(R), c) - pb;
      const [wg, wr] = [bg / (bg + br + 1e-8), br / (bg + br + 1e-8)];
      const Ldr = norm(Float64Array.from(Gd, (v, i) => wg * v + wr * R[i]), false);
      const bdr = prob(masked(Ldr), c) - pb;
      const [w5dr, w5r] = [bdr / (bdr + wr + 1e-8), wr / (bdr + wr + 1e-8)];
      const F = Float64Array.from(Ldr, (v, i) => {
        const l1 = w5dr * v;
        const l2 = w5r * R[i];
        const sim = Math.min(1, Math.max(0, 1 - Math.abs(l1 - l2)));
        return sim * Math.max(l1, l2) + (1 - sim) * 0.5 * (l1 + l2);
      });
      expect(maxAbsDiff(f.map, norm(F, false))).toBeLessThan(2e-4);
      expect(f.betas.gradient).toBeCloseTo(bg, 5);
      expect(f.betas.combined).toBeCloseTo(bdr, 5);
    });
  });
});

describe('the wasm backend gives the same region maps as cpu', () => {
  // wasm has kernels of its own (its float32 OneHot once zeroed every Ablation-CAM weight)
  it.each(['groupcam', 'ablationcam', 'unioncam'] as RegionMethodId[])('%s', async (method) => {
    const onCpu = await withSession(async (s) => (await s.regionMap(s.predictedClass, { method, batchSize: 5 })).map);
    await initNodeBackend('wasm');
    try {
      const onWasm = await withSession(async (s) => (await s.regionMap(s.predictedClass, { method, batchSize: 5 })).map);
      expect(maxAbsDiff(onWasm, onCpu)).toBeLessThan(1e-4);
      expect(Math.max(...onWasm)).toBe(1);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
