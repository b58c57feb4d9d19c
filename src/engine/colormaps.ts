/**
 * Colormaps as 256-entry RGB lookup tables (Uint8Array of 768), so colouring a map is one
 * table lookup per pixel. Turbo uses Google's published polynomial fit; viridis and inferno
 * the 6th-degree fits of the matplotlib tables; jet is matplotlib's piecewise-linear jet.
 */
export type ColormapId = 'turbo' | 'jet' | 'viridis' | 'inferno';

export const COLORMAP_IDS: ColormapId[] = ['turbo', 'jet', 'viridis', 'inferno'];

type Rgb = [number, number, number];

function turbo(x: number): Rgb {
  const x2 = x * x;
  const x3 = x2 * x;
  const x4 = x2 * x2;
  const x5 = x4 * x;
  return [
    0.13572138 + 4.6153926 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5,
    0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5,
    0.1066733 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5,
  ];
}

function poly6(c: number[][], t: number): Rgb {
  const out: Rgb = [0, 0, 0];
  for (let ch = 0; ch < 3; ch++) {
    let v = c[6][ch];
    for (let k = 5; k >= 0; k--) v = c[k][ch] + t * v;
    out[ch] = v;
  }
  return out;
}

const VIRIDIS = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

const INFERNO = [
  [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
  [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
  [11.60249308247187, -3.972853965665698, -15.9423941062914],
  [-41.70399613139459, 17.43639888205313, 44.35414519872813],
  [77.162935699427, -33.40235894210092, -81.80730925738993],
  [-71.31942824499214, 32.62606426397723, 73.20951985803202],
  [25.13112622477341, -12.24266895238567, -23.07032500287172],
];

function jet(x: number): Rgb {
  const c = (v: number) => Math.min(1, Math.max(0, v));
  return [c(1.5 - Math.abs(4 * x - 3)), c(1.5 - Math.abs(4 * x - 2)), c(1.5 - Math.abs(4 * x - 1))];
}

const FUNCTIONS: Record<ColormapId, (x: number) => Rgb> = {
  turbo,
  jet,
  viridis: (t) => poly6(VIRIDIS, t),
  inferno: (t) => poly6(INFERNO, t),
};

const cache = new Map<ColormapId, Uint8Array>();

/** The 256×RGB table of a colormap (built once). */
export function colormapLut(id: ColormapId): Uint8Array {
  let lut = cache.get(id);
  if (!lut) {
    lut = new Uint8Array(256 * 3);
    const f = FUNCTIONS[id];
    for (let i = 0; i < 256; i++) {
      const rgb = f(i / 255);
      for (let ch = 0; ch < 3; ch++) lut[i * 3 + ch] = Math.round(Math.min(1, Math.max(0, rgb[ch])) * 255);
    }
    cache.set(id, lut);
  }
  return lut;
}

export function isColormapId(v: string): v is ColormapId {
  return (COLORMAP_IDS as string[]).includes(v);
}
