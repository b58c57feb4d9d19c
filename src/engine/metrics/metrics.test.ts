/**
 * Metrics against independent plain-JS computations: a toy classifier whose logits are a known
 * linear function of the per-channel image means (GAP then dense), so every curve point can be
 * recomputed by hand in float64 loops here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { gaussianBlur, gaussianKernel1d } from './blur';
import { FaithfulnessEvaluator, averageDrop, curveAuc, curveLength, dropIncrease, increaseInConfidence, pixelOrder, type LogitsFn } from './faithfulness';
import { initNodeBackend } from '../../node/backend';
import { boxMask, boxesToInput, energyPointingGame, pointingGame, type Box } from './localization';

beforeAll(async () => {
  await tf.setBackend('cpu');
  (tf.findBackend('cpu') as unknown as { firstUse: boolean }).firstUse = false;
});

/** Deterministic values in [-1, 1). */
function seeded(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a / 2 ** 31 - 1;
  }
  return out;
}

// toy classifier: z = mean_ij(x)[B,3] · Wd + bd, 3 classes
const Wd = [
  [2.0, -1.0, 0.5],
  [-1.5, 1.0, 0.7],
  [0.8, 0.3, -1.2],
];
const bd = [0.1, -0.2, 0.05];
const toyLogits: LogitsFn = (x) => tf.tidy(() => tf.add(tf.matMul(tf.mean(x, [1, 2]), tf.tensor2d(Wd)), tf.tensor1d(bd)) as tf.Tensor2D);

function jsProb(img: ArrayLike<number>, H: number, W: number, c: number): number {
  const m = [0, 0, 0];
  for (let i = 0; i < H * W; i++) for (let ch = 0; ch < 3; ch++) m[ch] += img[i * 3 + ch] / (H * W);
  const z = [0, 1, 2].map((k) => bd[k] + m[0] * Wd[0][k] + m[1] * Wd[1][k] + m[2] * Wd[2][k]);
  const mx = Math.max(...z);
  const e = z.map((v) => Math.exp(v - mx));
  return e[c] / (e[0] + e[1] + e[2]);
}

/** Direct 2-D convolution with a k×k Gaussian, mirror borders without edge repeat, float64. */
function jsBlur(img: ArrayLike<number>, H: number, W: number, C: number, k: number, sigma: number): Float64Array {
  const r = Math.floor(k / 2);
  const ker: number[] = [];
  let sum = 0;
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++) {
      const v = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
      ker.push(v);
      sum += v;
    }
  const mirror = (i: number, n: number) => {
    if (n === 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  const out = new Float64Array(H * W * C);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let ch = 0; ch < C; ch++) {
        let s = 0;
        let t = 0;
        for (let dy = -r; dy <= r; dy++)
          for (let dx = -r; dx <= r; dx++) s += (ker[t++] / sum) * img[(mirror(y + dy, H) * W + mirror(x + dx, W)) * C + ch];
        out[(y * W + x) * C + ch] = s;
      }
  return out;
}

/** The authors' loop, in JS: start image, replace `step` pixels per step in map order, score each state. */
function jsCurve(x: Float32Array, H: number, W: number, map: ArrayLike<number>, c: number, mode: 'deletion' | 'insertion', step: number, blurred?: ArrayLike<number>): number[] {
  const idx = Array.from({ length: H * W }, (_, i) => i);
  // selection-sort style: repeatedly take the largest remaining value, lowest index first
  const order: number[] = [];
  const used = new Array(H * W).fill(false);
  for (let n = 0; n < H * W; n++) {
    let best = -1;
    for (const i of idx) if (!used[i] && (best < 0 || map[i] > map[best])) best = i;
    used[best] = true;
    order.push(best);
  }
  const cur = Float64Array.from(mode === 'deletion' ? x : blurred!);
  const fin = mode === 'deletion' ? new Float64Array(x.length) : Float64Array.from(x);
  const nSteps = Math.floor((H * W + step - 1) / step);
  const scores: number[] = [];
  for (let i = 0; i <= nSteps; i++) {
    scores.push(jsProb(cur, H, W, c));
    for (const p of order.slice(step * i, step * (i + 1))) for (let ch = 0; ch < 3; ch++) cur[p * 3 + ch] = fin[p * 3 + ch];
  }
  return scores;
}

describe('curve bookkeeping', () => {
  it('AUC is the trapezoid rule on a unit axis, as the authors compute it', () => {
    expect(curveAuc([1, 0.5, 0])).toBeCloseTo(0.5, 12);
    expect(curveAuc([0.2, 0.4, 0.6, 0.8])).toBeCloseTo(0.5, 12);
    expect(curveAuc([0, 1, 1, 0])).toBeCloseTo(2 / 3, 12);
  });
  it('224×224 with 448 pixels per step gives 113 evaluations; other sizes ⌈n/step⌉ + 1', () => {
    expect(curveLength(224 * 224, 448)).toBe(113);
    expect(curveLength(100, 7)).toBe(16);
    expect(curveLength(416 * 416, 448)).toBe(388);
  });
  it('orders pixels by value, descending, ties by lower index', () => {
    expect(Array.from(pixelOrder([0.5, 1, 0.5, 1, 0, 0.5]))).toEqual([1, 3, 0, 2, 5, 4]);
  });
  it('Average Drop and Increase follow the authors’ per-image formulas and batch means', () => {
    const a = dropIncrease(0.5, 0.25);
    expect(a.drop).toBeCloseTo(0.5, 6);
    expect(a.increase).toBe(0);
    const b = dropIncrease(0.4, 0.6);
    expect(b.drop).toBe(0);
    expect(b.increase).toBe(1);
    const same = dropIncrease(0.3, 0.3);
    expect(same.increase).toBe(0);
    expect(averageDrop([a, b, same])).toBeCloseTo(0.5 / 3, 6);
    expect(increaseInConfidence([a, b, same])).toBeCloseTo(1 / 3, 12);
  });
});

describe('Gaussian blur', () => {
  it('kernel is kornia’s normalised 1-D Gaussian', () => {
    const k = gaussianKernel1d(5, 1);
    const raw = [-2, -1, 0, 1, 2].map((d) => Math.exp(-(d * d) / 2));
    const s = raw.reduce((p, q) => p + q);
    raw.forEach((v, i) => expect(k[i]).toBeCloseTo(v / s, 7));
  });
  it.each([
    [9, 7, 5, 1.5],
    [60, 56, 51, 50],
    [30, 20, 51, 50], // kernel wider than the image: reflection continues
    [1, 4, 3, 1],
  ])('matches a direct 2-D convolution with mirrored borders (%i×%i, k=%i, σ=%f)', (H, W, k, sigma) => {
    const img = seeded(H * W * 3, H * 31 + W);
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(img, [1, H, W, 3]);
    const out = gaussianBlur(x, { kernelSize: k, sigma });
    const got = out.dataSync();
    x.dispose();
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const want = jsBlur(img, H, W, 3, k, sigma);
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
    expect(maxErr).toBeLessThan(2e-6);
  });
});

describe('FaithfulnessEvaluator on a toy classifier', () => {
  const H = 8;
  const W = 9;
  const x = seeded(H * W * 3, 7);
  // a map with ties and a plateau, so the tie rule matters
  const map = Float32Array.from({ length: H * W }, (_, i) => Math.round(Math.abs(Math.sin(i * 0.7)) * 4) / 4);

  it('deletion and insertion curves and AUCs equal the authors’ loop, for uneven batches', async () => {
    const before = tf.memory().numTensors;
    for (const c of [0, 2]) {
      const ev = FaithfulnessEvaluator.create(toyLogits, x, c, { size: [H, W], step: 5, batchSize: 4, blur: { kernelSize: 5, sigma: 2 } });
      expect(ev.curveLength).toBe(16); // ⌈72/5⌉ + 1
      const r = await ev.evaluate(map);
      ev.dispose();
      const del = jsCurve(x, H, W, map, c, 'deletion', 5);
      const ins = jsCurve(x, H, W, map, c, 'insertion', 5, jsBlur(x, H, W, 3, 5, 2));
      expect(r.deletion.scores.length).toBe(del.length);
      del.forEach((v, i) => expect(r.deletion.scores[i]).toBeCloseTo(v, 5));
      ins.forEach((v, i) => expect(r.insertion.scores[i]).toBeCloseTo(v, 5));
      const auc = (s: number[]) => (s.reduce((p, q) => p + q) - s[0] / 2 - s[s.length - 1] / 2) / (s.length - 1);
      expect(r.deletion.auc).toBeCloseTo(auc(del), 5);
      expect(r.insertion.auc).toBeCloseTo(auc(ins), 5);
      // Average Drop / Increase: Y = p(x), O = p(x ⊙ L) with the map as given
      const Y = jsProb(x, H, W, c);
      const O = jsProb(Float32Array.from(x, (v, i) => v * map[Math.floor(i / 3)]), H, W, c);
      expect(r.original).toBeCloseTo(Y, 6);
      expect(r.masked).toBeCloseTo(O, 6);
      expect(r.drop).toBeCloseTo(Math.max(0, Y - O) / Y, 5);
      expect(r.increase).toBe(O > Y ? 1 : 0);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a map whose order differs only in ties gives a different deletion curve (the tie rule is applied)', async () => {
    const ev = FaithfulnessEvaluator.create(toyLogits, x, 0, { size: [H, W], step: 3, batchSize: 8 });
    const flat = new Float32Array(H * W); // all ties: index order
    const rev = Float32Array.from({ length: H * W }, (_, i) => i); // descending → highest index first
    const fwd = Float32Array.from({ length: H * W }, (_, i) => -i); // descending → index order
    const a = await ev.curve(flat, 'deletion');
    const b = await ev.curve(fwd, 'deletion');
    const r = await ev.curve(rev, 'deletion');
    ev.dispose();
    expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
    expect(Array.from(a.scores)).not.toEqual(Array.from(r.scores));
  });

  it('reports progress up to the total and can be cancelled without leaking', async () => {
    const before = tf.memory().numTensors;
    const ev = FaithfulnessEvaluator.create(toyLogits, x, 1, { size: [H, W], step: 2, batchSize: 5, blur: { kernelSize: 3, sigma: 1 } });
    const seen: number[] = [];
    let total = 0;
    await ev.evaluate(map, { onProgress: (p) => (seen.push(p.done), (total = p.total)) });
    expect(total).toBe(2 * (ev.curveLength - 2));
    expect(seen[seen.length - 1]).toBe(total);
    expect(seen).toEqual([...seen].sort((p, q) => p - q));
    const ctl = new AbortController();
    const run = ev.curve(map, 'insertion', { signal: ctl.signal, onProgress: () => ctl.abort() });
    await expect(run).rejects.toThrow('Cancelled');
    ev.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses maps of the wrong size or with NaN in one line', async () => {
    const ev = FaithfulnessEvaluator.create(toyLogits, x, 0, { size: [H, W] });
    await expect(ev.evaluate(new Float32Array(10))).rejects.toThrow(/has 10 values/);
    const bad = Float32Array.from(map);
    bad[3] = NaN;
    await expect(ev.evaluate(bad)).rejects.toThrow(/NaN/);
    ev.dispose();
  });
});

describe('localisation', () => {
  it('rescales boxes from image pixels to the model input', () => {
    const [b] = boxesToInput([[10, 20, 50, 100]], 100, 200, [224, 224]);
    [22.4, 22.4, 112, 112].forEach((v, i) => expect(b[i]).toBeCloseTo(v, 10));
  });
  it('a pixel is inside when its centre is', () => {
    // box x 1.2..3.6 covers centres 1.5, 2.5 (3.5 too: 3.5 ≤ 3.6); y 0..1.4 covers centre 0.5
    const m = boxMask([[1.2, 0, 3.6, 1.4]], [3, 5]);
    expect(Array.from(m)).toEqual([0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('pointing game and energy on a hand-made map', () => {
    const map = [0, 0.2, 0, 0, 0.1, 1, 0.3, 0, 0]; // 3×3, maximum at (1, 2)
    const boxes: Box[] = [[2, 1, 3, 2]]; // exactly pixel (row 1, col 2)
    expect(pointingGame(map, boxes, [3, 3])).toBe(1);
    expect(pointingGame(map, [[0, 0, 1, 1]], [3, 3])).toBe(0);
    expect(energyPointingGame(map, boxes, [3, 3])).toBeCloseTo(1 / 1.6, 12);
    // overlapping boxes count each pixel once
    expect(energyPointingGame(map, [[1, 0, 3, 2], [2, 1, 3, 3]], [3, 3])).toBeCloseTo((0.2 + 1 + 0.1 + 0) / 1.6, 12);
    expect(energyPointingGame(new Array(9).fill(0), boxes, [3, 3])).toBe(0);
  });
});

describe('the wasm backend (the CLI default) agrees with cpu', () => {
  it('blur and both curves', async () => {
    const H = 30;
    const W = 28;
    const x = seeded(H * W * 3, 99);
    const map = seeded(H * W, 5);
    const run = async () => {
      const ev = FaithfulnessEvaluator.create(toyLogits, x, 1, { size: [H, W], step: 20, batchSize: 6 });
      const xt = tf.tensor4d(x, [1, H, W, 3]);
      const b = gaussianBlur(xt);
      const blurred = Array.from(await b.data());
      tf.dispose([xt, b]);
      const r = await ev.evaluate(map);
      ev.dispose();
      return { blurred, r };
    };
    const cpu = await run();
    await initNodeBackend('wasm');
    try {
      const wasm = await run();
      let maxErr = 0;
      cpu.blurred.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - wasm.blurred[i]))));
      expect(maxErr).toBeLessThan(1e-5);
      cpu.r.deletion.scores.forEach((v, i) => expect(wasm.r.deletion.scores[i]).toBeCloseTo(v, 5));
      cpu.r.insertion.scores.forEach((v, i) => expect(wasm.r.insertion.scores[i]).toBeCloseTo(v, 5));
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
