/**
 * Colormaps and overlays in one pass over the pixels (plain TS, shared by the app and the CLI).
 * Turbo, viridis and inferno use published polynomial fits of the matplotlib/Google tables
 * (max error well under one 8-bit level for our purposes); jet is the classic piecewise ramp.
 */
export type ColormapId = 'turbo' | 'jet' | 'viridis' | 'inferno' | 'gray';

export const COLORMAPS: { id: ColormapId; label: string }[] = [
  { id: 'turbo', label: 'Turbo' },
  { id: 'jet', label: 'Jet' },
  { id: 'viridis', label: 'Viridis' },
  { id: 'inferno', label: 'Inferno' },
  { id: 'gray', label: 'Gray' },
];

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

type Poly = [number[], number[], number[]];

/** Coefficients c0..c6 per channel, evaluated as Σ c_i t^i. */
const VIRIDIS: Poly = [
  [0.2777273272234177, 0.1050930431085774, -0.3308618287255563, -4.634230498983486, 6.228269936347081, 4.776384997670288, -5.435455855934631],
  [0.005407344544966578, 1.404613529898575, 0.214847559468213, -5.799100973351585, 14.17993336680509, -13.74514537774601, 4.645852612178535],
  [0.3340998053353061, 1.384590162594685, 0.09509516302823659, -19.33244095627987, 56.69055260068105, -65.35303263337234, 26.3124352495832],
];
const INFERNO: Poly = [
  [0.0002189403691192265, 0.1065134194856116, 11.60249308247187, -41.70399613139459, 77.162935699427, -71.31942824499214, 25.13112622477341],
  [0.001651004631001012, 0.5639564367884091, -3.972853965665698, 17.43639888205313, -33.40235894210092, 32.62606426397723, -12.24266895238567],
  [-0.01948089843709184, 3.932712388889277, -15.9423941062914, 44.35414519872813, -81.80730925738993, 73.20951985803202, -23.07032500287172],
];
const TURBO: Poly = [
  [0.13572138, 4.6153926, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
  [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
  [0.1066733, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
];

function evalPoly(c: number[], t: number): number {
  let v = 0;
  for (let i = c.length - 1; i >= 0; i--) v = v * t + c[i];
  return v;
}

function colorAt(id: ColormapId, t: number): [number, number, number] {
  switch (id) {
    case 'jet':
      return [clamp01(1.5 - Math.abs(4 * t - 3)), clamp01(1.5 - Math.abs(4 * t - 2)), clamp01(1.5 - Math.abs(4 * t - 1))];
    case 'gray':
      return [t, t, t];
    case 'viridis':
      return VIRIDIS.map((c) => clamp01(evalPoly(c, t))) as [number, number, number];
    case 'inferno':
      return INFERNO.map((c) => clamp01(evalPoly(c, t))) as [number, number, number];
    case 'turbo':
    default:
      return TURBO.map((c) => clamp01(evalPoly(c, t))) as [number, number, number];
  }
}

const lutCache = new Map<ColormapId, Uint8Array>();

/** 256×3 lookup table. */
export function colormapLut(id: ColormapId): Uint8Array {
  let lut = lutCache.get(id);
  if (!lut) {
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = colorAt(id, i / 255);
      lut[i * 3] = Math.round(r * 255);
      lut[i * 3 + 1] = Math.round(g * 255);
      lut[i * 3 + 2] = Math.round(b * 255);
    }
    lutCache.set(id, lut);
  }
  return lut;
}

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
