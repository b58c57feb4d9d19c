/**
 * Plain-JS operations on saliency maps (Float32Array, row-major H×W). A 224×224 map is 50 k
 * values, so these run in well under a millisecond and need no tensors.
 */

export type FusionVariant = 'reference' | 'xplain';

export interface MapStats {
  min: number;
  max: number;
  mean: number;
  nonFinite: number;
}

export function mapStats(map: ArrayLike<number>): MapStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let nonFinite = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / Math.max(1, map.length - nonFinite), nonFinite };
}

/**
 * N(h) = (h − min)/(max − min).
 * reference: subtract the min, divide by the max only if it is > 0 (a constant map becomes 0);
 * xplain: divide by (max − min + 1e-8).
 */
export function normalizeMap(map: ArrayLike<number>, variant: FusionVariant = 'reference'): Float32Array {
  const { min, max } = mapStats(map);
  const out = new Float32Array(map.length);
  if (!Number.isFinite(min)) return out;
  if (variant === 'xplain') {
    const d = max - min + 1e-8;
    for (let i = 0; i < map.length; i++) out[i] = (map[i] - min) / d;
  } else {
    // float32 subtraction first, as numpy does on a float32 array
    const shifted = new Float32Array(map.length);
    for (let i = 0; i < map.length; i++) shifted[i] = map[i] - min;
    const m = Math.fround(max - min);
    if (m > 0) for (let i = 0; i < map.length; i++) out[i] = shifted[i] / m;
    else out.set(shifted);
  }
  return out;
}

/** θ-th percentile with numpy's default linear interpolation. */
export function percentile(values: ArrayLike<number>, theta: number): number {
  if (!(theta >= 0 && theta <= 100)) throw new Error(`Percentile θ must be in [0, 100], got ${theta}`);
  const n = values.length;
  if (n === 0) throw new Error('Percentile of an empty map');
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const r = (theta / 100) * (n - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return sorted[lo] + (r - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Fusion-CAM step 1. reference: zero pixels < P_θ (θ = 0 skips), then N;
 * xplain: keep pixels > P_θ, zero the rest, no re-normalisation.
 */
export function denoiseGradientMap(map: Float32Array, theta: number, variant: FusionVariant): { map: Float32Array; threshold: number } {
  const threshold = percentile(map, theta);
  if (variant === 'xplain') {
    const out = new Float32Array(map.length);
    for (let i = 0; i < map.length; i++) out[i] = map[i] > threshold ? map[i] : 0;
    return { map: out, threshold };
  }
  const out = Float32Array.from(map);
  if (theta > 0) for (let i = 0; i < out.length; i++) if (out[i] < threshold) out[i] = 0;
  return { map: normalizeMap(out, 'reference'), threshold };
}

/** a·A + b·B, element-wise. */
export function weightedSum(a: number, A: ArrayLike<number>, b: number, B: ArrayLike<number>): Float32Array {
  const out = new Float32Array(A.length);
  for (let i = 0; i < A.length; i++) out[i] = a * A[i] + b * B[i];
  return out;
}

/**
 * Fusion-CAM step 5: adaptive similarity fusion of L1 = β_dr·L_dr and L2 = β_r·L_r.
 * sim = clip(1 − |L1 − L2|/τ, 0, 1); F = sim·max(L1, L2) + (1 − sim)·(L1 + L2)/2; N(F).
 */
export function similarityFusion(
  combined: Float32Array,
  betaCombined: number,
  region: Float32Array,
  betaRegion: number,
  tau: number,
  variant: FusionVariant,
): Float32Array {
  if (!(tau > 0)) throw new Error(`Agreement tolerance τ must be > 0, got ${tau}`);
  // τ runs on every slider step: one pass computes F and its range, a second normalises in
  // place — the same float32 numbers as normalizeMap(F), with one array instead of three
  const n = combined.length;
  const F = new Float32Array(n);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const l1 = Math.fround(combined[i] * betaCombined);
    const l2 = Math.fround(region[i] * betaRegion);
    const sim = Math.min(1, Math.max(0, 1 - Math.abs(l1 - l2) / tau));
    const f = Math.fround(sim * Math.max(l1, l2) + (1 - sim) * 0.5 * (l1 + l2));
    F[i] = f;
    if (f < min) min = f; // NaN compares false, as mapStats skips it
    if (f > max) max = f;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) return normalizeMap(F, variant); // ±Inf or all NaN: the general path
  if (variant === 'xplain') {
    const d = max - min + 1e-8;
    for (let i = 0; i < n; i++) F[i] = (F[i] - min) / d;
  } else {
    const m = Math.fround(max - min);
    if (m > 0) for (let i = 0; i < n; i++) F[i] = Math.fround(F[i] - min) / m;
    else for (let i = 0; i < n; i++) F[i] = F[i] - min;
  }
  return F;
}

/** Bilinear resize with half-pixel centres (PyTorch align_corners=False, no antialias), plain JS. */
export function resizeBilinear(src: ArrayLike<number>, h: number, w: number, H: number, W: number): Float32Array {
  const out = new Float32Array(H * W);
  const sy = h / H;
  const sx = w / W;
  for (let y = 0; y < H; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(h - 1, Math.floor(fy));
    const y1 = Math.min(h - 1, y0 + 1);
    const dy = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(w - 1, Math.floor(fx));
      const x1 = Math.min(w - 1, x0 + 1);
      const dx = fx - x0;
      const top = src[y0 * w + x0] + (src[y0 * w + x1] - src[y0 * w + x0]) * dx;
      const bottom = src[y1 * w + x0] + (src[y1 * w + x1] - src[y1 * w + x0]) * dx;
      out[y * W + x] = top + (bottom - top) * dy;
    }
  }
  return out;
}

export function isConstant(map: ArrayLike<number>): boolean {
  const { min, max } = mapStats(map);
  return !(max > min);
}
