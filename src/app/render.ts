/**
 * Overlay rendering: a model-resolution map is resampled to the photo's display size (cached
 * per map object and size), then coloured and blended with the photo in one pass over the
 * pixels into an ImageData.
 */
import { resizeBilinear } from '../engine/maps';

const resized = new WeakMap<Float32Array, Map<string, Float32Array>>();

/** `map` (h×w) bilinearly resampled to W×H; the result is cached per map object. */
export function resampleMap(map: Float32Array, h: number, w: number, W: number, H: number): Float32Array {
  if (h === H && w === W) return map;
  let byMap = resized.get(map);
  if (!byMap) {
    byMap = new Map();
    resized.set(map, byMap);
  }
  const key = `${W}x${H}`;
  let out = byMap.get(key);
  if (!out) {
    out = resizeBilinear(map, h, w, H, W);
    byMap.set(key, out);
  }
  return out;
}

/** [min, max] over the finite values of all maps. */
export function valueRange(maps: ArrayLike<number>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of maps) {
    for (let i = 0; i < m.length; i++) {
      const v = m[i];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  return [lo, hi];
}

/**
 * out = (1 − a)·photo + a·colormap((map − lo)/(hi − lo)), one pass. `photo` and `out` have the
 * map's size; a null photo draws the colormap alone. A constant map (hi ≤ lo) draws as 0.
 */
export function blendOverlay(
  out: ImageData,
  map: ArrayLike<number>,
  photo: Uint8ClampedArray | null,
  lut: Uint8Array,
  opacity: number,
  lo: number,
  hi: number,
): void {
  const px = out.data;
  const n = out.width * out.height;
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const a = Math.min(1, Math.max(0, opacity));
  const b = 1 - a;
  for (let i = 0; i < n; i++) {
    let v = (map[i] - lo) * scale;
    v = v > 255 ? 255 : v > 0 ? v : 0; // NaN → 0
    const k = (v | 0) * 3;
    const o = i * 4;
    if (photo) {
      px[o] = b * photo[o] + a * lut[k];
      px[o + 1] = b * photo[o + 1] + a * lut[k + 1];
      px[o + 2] = b * photo[o + 2] + a * lut[k + 2];
    } else {
      px[o] = lut[k];
      px[o + 1] = lut[k + 1];
      px[o + 2] = lut[k + 2];
    }
    px[o + 3] = 255;
  }
}

/** Draws the colormap as a horizontal gradient bar. */
export function drawColorBar(ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, lut: Uint8Array, x: number, y: number, w: number, h: number): void {
  const img = ctx.createImageData(Math.max(1, Math.round(w)), Math.max(1, Math.round(h)));
  for (let col = 0; col < img.width; col++) {
    const k = Math.round((col / Math.max(1, img.width - 1)) * 255) * 3;
    for (let row = 0; row < img.height; row++) {
      const o = (row * img.width + col) * 4;
      img.data[o] = lut[k];
      img.data[o + 1] = lut[k + 1];
      img.data[o + 2] = lut[k + 2];
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, Math.round(x), Math.round(y));
}

const nonFiniteCache = new WeakMap<Float32Array, string | null>();

/**
 * NaN and ±Inf are never drawn as colours (they would pass for the low end of the colormap):
 * a panel whose map holds any shows this message instead. null = every value is finite.
 * Cached per map object (a slider step redraws the same maps).
 */
export function nonFiniteMessage(map: Float32Array): string | null {
  if (nonFiniteCache.has(map)) return nonFiniteCache.get(map)!;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (Number.isNaN(v)) nan++;
    else if (v === Infinity || v === -Infinity) inf++;
  }
  const parts = [nan > 0 ? `${nan} NaN` : '', inf > 0 ? `${inf} infinite` : ''].filter(Boolean);
  const msg = parts.length === 0 ? null : `Not drawn: the map has ${parts.join(' and ')} value${nan + inf > 1 ? 's' : ''} (of ${map.length}); its numbers cannot be shown as colours.`;
  nonFiniteCache.set(map, msg);
  return msg;
}
