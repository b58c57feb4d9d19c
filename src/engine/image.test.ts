/**
 * resizeRgbPillow against hand-worked cases and an independent float implementation of Pillow's
 * antialiased bilinear resize (triangle filter widened by max(scale, 1), half-pixel centres,
 * normalised weights, separable, rounded once at the end). The engine uses Pillow's 22-bit
 * fixed point and rounds after each pass, so it may differ from the float version by 1 level.
 */
import { describe, expect, it } from 'vitest';
import { preprocessRgb, resizeRgbPillow, toModelInput, type RgbImage } from './image';
import { PREPROCESSING } from './model/descriptor';
import { rng } from '../test-utils/jsnet';

/** Output index → [(input index, weight)] for Pillow's bilinear filter, in float64. */
function pillowTaps(inSize: number, outSize: number): [number, number][][] {
  const scale = inSize / outSize;
  const fs = Math.max(scale, 1);
  const taps: [number, number][][] = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - fs + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + fs + 0.5));
    const list: [number, number][] = [];
    for (let i = lo; i < hi; i++) list.push([i, Math.max(0, 1 - Math.abs((i + 0.5 - center) / fs))]);
    const total = list.reduce((a, [, w]) => a + w, 0);
    taps.push(list.map(([i, w]) => [i, w / total]));
  }
  return taps;
}

/**
 * Final values before rounding. `roundBetweenPasses`: round the horizontal pass to 8 bits
 * (half up) as Pillow stores it between passes; `tie[i]` then says whether output value i
 * depends on an intermediate value that was a rounding tie (x.5).
 */
function resizeFloatRaw(img: RgbImage, W: number, H: number, roundBetweenPasses = false): { raw: Float64Array; tie: Uint8Array } {
  const tx = pillowTaps(img.width, W);
  const ty = pillowTaps(img.height, H);
  const tmp = new Float64Array(img.height * W * 3);
  const tmpTie = new Uint8Array(tmp.length);
  for (let y = 0; y < img.height; y++)
    for (let X = 0; X < W; X++)
      for (let ch = 0; ch < 3; ch++)
        tmp[(y * W + X) * 3 + ch] = tx[X].reduce((a, [i, w]) => a + w * img.data[(y * img.width + i) * img.channels + ch], 0);
  if (roundBetweenPasses)
    for (let i = 0; i < tmp.length; i++) {
      tmpTie[i] = Math.abs((tmp[i] % 1) - 0.5) < 1e-3 ? 1 : 0;
      tmp[i] = Math.min(255, Math.max(0, Math.floor(tmp[i] + 0.5)));
    }
  const raw = new Float64Array(H * W * 3);
  const tie = new Uint8Array(raw.length);
  for (let Y = 0; Y < H; Y++)
    for (let X = 0; X < W; X++)
      for (let ch = 0; ch < 3; ch++) {
        const o = (Y * W + X) * 3 + ch;
        raw[o] = ty[Y].reduce((a, [j, w]) => a + w * tmp[(j * W + X) * 3 + ch], 0);
        tie[o] = ty[Y].some(([j, w]) => w > 0 && tmpTie[(j * W + X) * 3 + ch]) || Math.abs((raw[o] % 1) - 0.5) < 1e-3 ? 1 : 0;
      }
  return { raw, tie };
}

const round8 = (raw: Float64Array): Uint8Array => Uint8Array.from(raw, (v) => Math.min(255, Math.max(0, Math.floor(v + 0.5))));

function image(width: number, height: number, f: (x: number, y: number) => [number, number, number], channels: 3 | 4 = 3): RgbImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * channels;
      data.set(f(x, y), p);
      if (channels === 4) data[p + 3] = 77;
    }
  return { width, height, data, channels };
}

const plane = (rgb: Uint8Array, ch: number, W: number): number[][] => {
  const rows: number[][] = [];
  for (let i = ch, k = 0; i < rgb.length; i += 3, k++) {
    if (k % W === 0) rows.push([]);
    rows[rows.length - 1].push(rgb[i]);
  }
  return rows;
};

describe('resizeRgbPillow: hand-worked cases', () => {
  it('4×4 → 2×2: taps [3/7, 3/7, 1/7] and [1/7, 3/7, 3/7] (support 2, not a 2×2 box)', () => {
    // R = 70x + 7y, G = 255 − 70x − 7y, B = 14y: every output is an integer by hand
    // R: x → (0·3 + 70·3 + 140)/7 = 50, (70 + 140·3 + 210·3)/7 = 160; y: 7·5/7… → +5, +16
    const img = image(4, 4, (x, y) => [70 * x + 7 * y, 255 - 70 * x - 7 * y, 14 * y], 4);
    const out = resizeRgbPillow(img, 2, 2);
    expect(plane(out, 0, 2)).toEqual([
      [55, 165],
      [66, 176],
    ]);
    expect(plane(out, 1, 2)).toEqual([
      [200, 90],
      [189, 79],
    ]);
    expect(plane(out, 2, 2)).toEqual([
      [10, 10],
      [32, 32],
    ]);
  });

  it('2×2 → 4×4: edge pixels copy, inner ones are 3:1 blends', () => {
    const vals = [
      [0, 200],
      [80, 120],
    ];
    const out = resizeRgbPillow(image(2, 2, (x, y) => [vals[y][x], 255 - vals[y][x], 7]), 4, 4);
    const expected = [
      [0, 50, 150, 200],
      [20, 60, 140, 180],
      [60, 80, 120, 140],
      [80, 90, 110, 120],
    ];
    expect(plane(out, 0, 4)).toEqual(expected);
    expect(plane(out, 1, 4)).toEqual(expected.map((r) => r.map((v) => 255 - v)));
    expect(plane(out, 2, 4).flat().every((v) => v === 7)).toBe(true);
  });

  it('same size returns the pixels (alpha dropped)', () => {
    const img = image(3, 2, (x, y) => [x * 50, y * 90, 200 - x], 4);
    expect(Array.from(resizeRgbPillow(img, 3, 2))).toEqual([0, 0, 200, 50, 0, 199, 100, 0, 198, 0, 90, 200, 50, 90, 199, 100, 90, 198]);
  });

  it('non-square: 4×1 → 2×1 and 1×4 → 1×2 resize only the axis that changes', () => {
    const row = [0, 70, 140, 210];
    expect(plane(resizeRgbPillow(image(4, 1, (x) => [row[x], 0, 0]), 2, 1), 0, 2)).toEqual([[50, 160]]);
    expect(plane(resizeRgbPillow(image(1, 4, (_x, y) => [row[y], 0, 0]), 1, 2), 0, 1)).toEqual([[50], [160]]);
  });

  it('a constant image stays constant at any size', () => {
    const out = resizeRgbPillow(image(13, 7, () => [9, 128, 255]), 224, 224);
    for (let i = 0; i < out.length; i += 3) expect([out[i], out[i + 1], out[i + 2]]).toEqual([9, 128, 255]);
  });
});

describe('resizeRgbPillow vs an independent float implementation', () => {
  it.each([
    [37, 23, 16, 16],
    [10, 7, 25, 13],
    [300, 200, 224, 224],
    [5, 9, 224, 224],
    [224, 224, 224, 100],
    [227, 227, 224, 224],
  ])('%i×%i → %i×%i: ≤ 1 level from float; equal to float with Pillow\'s 8-bit intermediate', (w, h, W, H) => {
    const rand = rng(w * 1000 + h);
    const img = image(w, h, () => [Math.floor(rand() * 256), Math.floor(rand() * 256), Math.floor(rand() * 256)]);
    const got = resizeRgbPillow(img, W, H);
    let maxDiff = 0;
    const float = round8(resizeFloatRaw(img, W, H).raw);
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - float[i]));
    expect(maxDiff).toBeLessThanOrEqual(1);
    // With the intermediate rounding modelled, only Pillow's 22-bit weight quantisation is left:
    // a pixel may differ only where float arithmetic meets a rounding tie (x.5).
    const staged = resizeFloatRaw(img, W, H, w !== W && h !== H);
    const rounded = round8(staged.raw);
    let ties = 0;
    for (let i = 0; i < got.length; i++) {
      if (got[i] === rounded[i]) continue;
      expect(staged.tie[i], `pixel value ${i}: ${got[i]} vs ${staged.raw[i]}`).toBe(1);
      expect(Math.abs(got[i] - rounded[i])).toBe(1);
      ties++;
    }
    expect(ties / got.length).toBeLessThan(0.05);
  });

  it('rejects an image with no pixels', () => {
    expect(() => resizeRgbPillow({ width: 0, height: 3, data: new Uint8Array(0), channels: 3 }, 2, 2)).toThrow(/no pixels/);
  });
});

describe('preprocessing', () => {
  it('mobilenet maps 0 → −1, 255 → 1; unit maps 255 → 1', () => {
    const rgb = Uint8Array.from([0, 255, 51]);
    const m = preprocessRgb(rgb, PREPROCESSING.mobilenet);
    expect(m[0]).toBeCloseTo(-1, 6);
    expect(m[1]).toBeCloseTo(1, 6);
    expect(m[2]).toBeCloseTo(51 / 127.5 - 1, 6);
    expect(preprocessRgb(rgb, PREPROCESSING.unit)[1]).toBeCloseTo(1, 6);
  });

  it("toModelInput('pillow') resizes to [H, W] (rows, columns) then preprocesses", () => {
    const img = image(4, 4, (x, y) => [70 * x + 7 * y, 0, 0]);
    const { rgb, input } = toModelInput(img, [2, 4], PREPROCESSING.raw, 'pillow');
    expect(rgb.length).toBe(2 * 4 * 3);
    // width unchanged (4), height 4 → 2: R(x, y) = 70x + {5, 16}
    expect(plane(rgb, 0, 4)).toEqual([
      [5, 75, 145, 215],
      [16, 86, 156, 226],
    ]);
    expect(Array.from(input)).toEqual(Array.from(rgb));
  });
});
