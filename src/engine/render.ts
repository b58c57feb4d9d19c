/** Overlays in one pass over the pixels (plain TS, used by the CLI; colormaps in colormaps.ts). */
import { colormapLut, type ColormapId } from './colormaps';

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * Writes `base` (RGBA or RGB, w×h) blended with the colormapped `map` (same w×h, values in
 * [0, 1]; NaN drawn as the base image) into an RGBA buffer. `scale` maps values to [0, 1]
 * (for a shared scale across panels): t = (v − lo)/(hi − lo).
 */
export function overlayRgba(
  base: ArrayLike<number>,
  baseChannels: 3 | 4,
  map: ArrayLike<number>,
  w: number,
  h: number,
  colormap: ColormapId,
  opacity: number,
  out: Uint8ClampedArray | Uint8Array = new Uint8ClampedArray(w * h * 4),
  scale: { lo: number; hi: number } = { lo: 0, hi: 1 },
): Uint8ClampedArray | Uint8Array {
  const lut = colormapLut(colormap);
  const a = clamp01(opacity);
  const span = scale.hi - scale.lo || 1;
  for (let i = 0, n = w * h; i < n; i++) {
    const v = map[i];
    const p = i * baseChannels;
    const o = i * 4;
    if (!Number.isFinite(v)) {
      out[o] = base[p];
      out[o + 1] = base[p + 1];
      out[o + 2] = base[p + 2];
    } else {
      const t = clamp01((v - scale.lo) / span);
      const k = Math.round(t * 255) * 3;
      out[o] = base[p] * (1 - a) + lut[k] * a;
      out[o + 1] = base[p + 1] * (1 - a) + lut[k + 1] * a;
      out[o + 2] = base[p + 2] * (1 - a) + lut[k + 2] * a;
    }
    out[o + 3] = 255;
  }
  return out;
}
