/**
 * Image → model input, whole image, no crop. Two resizers:
 * - 'bilinear' (default): exactly `tf.image.resizeBilinear(img, [H, W])` with TF.js's defaults
 *   (alignCorners = false, halfPixelCenters = false, no antialiasing), on float pixels. This is
 *   how the TF.js MobileNet numbers in shared/PROVENANCE.md were measured (0.75 on dog.jpg:
 *   41.6 %; 74.6 % top-1 on imagenet_val), so the app, the CLI and TF.js users see the same input.
 * - 'pillow': Pillow's BILINEAR `Image.resize` bit for bit (antialiased triangle filter, 22-bit
 *   fixed point, 8-bit rounding after each pass), i.e. torchvision `Resize((224, 224))` on a PIL
 *   image as in the authors' Python pipeline.
 */
import type { Preprocessing } from './model/descriptor';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved 8-bit samples, `channels` per pixel (3 = RGB, 4 = RGBA; alpha is ignored). */
  data: Uint8Array | Uint8ClampedArray;
  channels: 3 | 4;
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

interface Coefficients {
  bounds: Int32Array; // [xmin, count] per output pixel
  weights: Float64Array; // integer fixed-point weights, kmax per output pixel
  kmax: number;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear (triangle) filter. */
function precompute(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 1 * filterscale;
  const kmax = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * kmax);
  const ss = 1 / filterscale;
  const k = new Float64Array(kmax);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x] / ww : k[x];
      // normalize_coeffs_8bpc: round half away from zero
      weights[xx * kmax + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, weights, kmax };
}

const clip8 = (v: number): number => {
  const s = Math.floor(v / ONE);
  return s < 0 ? 0 : s > 255 ? 255 : s;
};

/** Resize to outW×outH RGB exactly as Pillow's `Image.resize((outW, outH), BILINEAR)` on an RGB image. */
export function resizeRgbPillow(img: RgbImage, outW: number, outH: number): Uint8Array {
  const { width: inW, height: inH, data, channels } = img;
  if (inW < 1 || inH < 1) throw new Error(`The image has no pixels (${inW}×${inH})`);
  // Horizontal pass first (Pillow does it when the width changes), over the rows the vertical pass needs.
  const horiz = precompute(inW, outW);
  const vert = precompute(inH, outH);
  const needH = inW !== outW;
  const needV = inH !== outH;
  let tmp: Uint8Array;
  let tmpW: number;
  if (needH) {
    tmpW = outW;
    tmp = new Uint8Array(inH * outW * 3);
    for (let y = 0; y < inH; y++) {
      const rowIn = y * inW * channels;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = horiz.bounds[xx * 2];
        const n = horiz.bounds[xx * 2 + 1];
        let r = HALF;
        let g = HALF;
        let b = HALF;
        const kOff = xx * horiz.kmax;
        for (let x = 0; x < n; x++) {
          const w = horiz.weights[kOff + x];
          const p = rowIn + (xmin + x) * channels;
          r += data[p] * w;
          g += data[p + 1] * w;
          b += data[p + 2] * w;
        }
        const o = (y * outW + xx) * 3;
        tmp[o] = clip8(r);
        tmp[o + 1] = clip8(g);
        tmp[o + 2] = clip8(b);
      }
    }
  } else {
    tmpW = inW;
    tmp = new Uint8Array(inH * inW * 3);
    for (let i = 0, j = 0; i < inH * inW; i++, j += channels) {
      tmp[i * 3] = data[j];
      tmp[i * 3 + 1] = data[j + 1];
      tmp[i * 3 + 2] = data[j + 2];
    }
  }
  if (!needV) return tmp;
  const out = new Uint8Array(outH * tmpW * 3);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = vert.bounds[yy * 2];
    const n = vert.bounds[yy * 2 + 1];
    const kOff = yy * vert.kmax;
    for (let x = 0; x < tmpW; x++) {
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let y = 0; y < n; y++) {
        const w = vert.weights[kOff + y];
        const p = ((ymin + y) * tmpW + x) * 3;
        r += tmp[p] * w;
        g += tmp[p + 1] * w;
        b += tmp[p + 2] * w;
      }
      const o = (yy * tmpW + x) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return out;
}

/** RGB values 0…255 (bytes or floats, H×W×3) → the model's input space, float32 H×W×3. */
export function preprocessRgb(rgb: ArrayLike<number>, pre: Preprocessing): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    out[i] = rgb[i] * pre.scale[0] + pre.offset[0];
    out[i + 1] = rgb[i + 1] * pre.scale[1] + pre.offset[1];
    out[i + 2] = rgb[i + 2] * pre.scale[2] + pre.offset[2];
  }
  return out;
}

export type ResizeMethod = 'bilinear' | 'pillow';

/**
 * TF.js `resizeBilinear` with alignCorners = false, halfPixelCenters = false (its cpu kernel's
 * arithmetic: source = dst·in/out, floor/ceil neighbours clamped to the edge). RGB float32 out.
 */
export function resizeRgbBilinearTf(img: RgbImage, outW: number, outH: number): Float32Array {
  const { width: inW, height: inH, data, channels } = img;
  if (inW < 1 || inH < 1) throw new Error(`The image has no pixels (${inW}×${inH})`);
  const out = new Float32Array(outW * outH * 3);
  const ry = inH / outH;
  const rx = inW / outW;
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const fxs = new Float64Array(outW);
  for (let x = 0; x < outW; x++) {
    const sx = rx * x;
    x0s[x] = Math.max(0, Math.floor(sx));
    x1s[x] = Math.min(inW - 1, Math.ceil(sx));
    fxs[x] = sx - x0s[x];
  }
  for (let y = 0; y < outH; y++) {
    const sy = ry * y;
    const y0 = Math.max(0, Math.floor(sy));
    const y1 = Math.min(inH - 1, Math.ceil(sy));
    const fy = sy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = fxs[x];
      const tl = (y0 * inW + x0s[x]) * channels;
      const tr = (y0 * inW + x1s[x]) * channels;
      const bl = (y1 * inW + x0s[x]) * channels;
      const br = (y1 * inW + x1s[x]) * channels;
      const o = (y * outW + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = data[tl + c] + (data[tr + c] - data[tl + c]) * fx;
        const bottom = data[bl + c] + (data[br + c] - data[bl + c]) * fx;
        out[o + c] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

/**
 * Decoded image → model input: resize (see the top of this file), then preprocess. `rgb` is the
 * resized image as 8-bit RGB for display.
 */
export function toModelInput(
  img: RgbImage,
  size: [number, number],
  pre: Preprocessing,
  resize: ResizeMethod = 'bilinear',
): { rgb: Uint8Array; input: Float32Array } {
  const [H, W] = size;
  if (resize === 'pillow') {
    const rgb = resizeRgbPillow(img, W, H);
    return { rgb, input: preprocessRgb(rgb, pre) };
  }
  const f = resizeRgbBilinearTf(img, W, H);
  const rgb = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) rgb[i] = Math.min(255, Math.max(0, Math.round(f[i])));
  return { rgb, input: preprocessRgb(f, pre) };
}
