/**
 * Plain-JS reference implementation of the method (docs/method.md), written from its
 * text alone: float64 loops, no tfjs, no engine code. Gradients come from central finite
 * differences through the JS head, Score-CAM is a naive one-channel-at-a-time loop.
 */
import { jsLogits, softmaxAt, type JsTensor, type NetSpec } from './jsnet';

export type NVariant = 'reference' | 'xplain';

/** Bilinear resize, half-pixel centres (align_corners=False), edge-clamped. */
export function upsample(src: ArrayLike<number>, h: number, w: number, H: number, W: number): Float64Array {
  const out = new Float64Array(H * W);
  const at = (y: number, x: number) => src[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
  for (let Y = 0; Y < H; Y++) {
    // source coordinate of the output pixel centre, clamped below at 0 as PyTorch/TF do
    const sy = Math.max(0, ((Y + 0.5) * h) / H - 0.5);
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    for (let X = 0; X < W; X++) {
      const sx = Math.max(0, ((X + 0.5) * w) / W - 0.5);
      const x0 = Math.floor(sx);
      const fx = sx - x0;
      out[Y * W + X] =
        (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
    }
  }
  return out;
}

/** N(h): reference divides by max(h − min) only when it is > 0; xplain adds 1e-8. */
export function normalize(map: ArrayLike<number>, variant: NVariant): Float64Array {
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < map.length; i++) {
    mn = Math.min(mn, map[i]);
    mx = Math.max(mx, map[i]);
  }
  const out = new Float64Array(map.length);
  for (let i = 0; i < map.length; i++) {
    const s = map[i] - mn;
    out[i] = variant === 'xplain' ? s / (mx - mn + 1e-8) : mx - mn > 0 ? s / (mx - mn) : s;
  }
  return out;
}

export const relu = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, (v) => (v > 0 ? v : 0));

/** numpy.percentile(values, theta) with the default linear rule. */
export function percentileNumpy(values: ArrayLike<number>, theta: number): number {
  const v = Array.from(values).sort((a, b) => a - b);
  const r = (theta / 100) * (v.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return v[lo] + (r - lo) * (v[hi] - v[lo]);
}

/** Channel k of an [h, w, K] tensor as an h·w array. */
export function channel(A: JsTensor, k: number): Float64Array {
  const [h, w, K] = A.shape;
  const out = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) out[i] = A.data[i * K + k];
  return out;
}

/** ∂z_c/∂A by central differences of the JS logits, one activation value at a time. */
export function finiteDifferenceGradient(spec: NetSpec, x: JsTensor, layer: string, A: JsTensor, c: number, eps = 1e-5): Float64Array {
  const g = new Float64Array(A.data.length);
  const Ap = { shape: A.shape, data: Float64Array.from(A.data) };
  for (let i = 0; i < A.data.length; i++) {
    Ap.data[i] = A.data[i] + eps;
    const up = jsLogits(spec, x, [layer, Ap])[c];
    Ap.data[i] = A.data[i] - eps;
    const down = jsLogits(spec, x, [layer, Ap])[c];
    Ap.data[i] = A.data[i];
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

export type GradientMethod = 'gradcam' | 'gradcampp' | 'xgradcam' | 'layercam' | 'hirescam' | 'eigencam';

/**
 * EigenCAM's projection on the first principal component, independently: the activations as an
 * (h·w) × K matrix X centred over positions, v = the top eigenvector of XᵀX by power iteration
 * (float64), taken with Σ_k v_k > 0, projection X·v.
 */
export function principalProjection(A: JsTensor, iterations = 20000): Float64Array {
  const [h, w, K] = A.shape;
  const n = h * w;
  const X = new Float64Array(n * K);
  for (let k = 0; k < K; k++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += A.data[i * K + k] / n;
    for (let i = 0; i < n; i++) X[i * K + k] = A.data[i * K + k] - m;
  }
  let v = Float64Array.from({ length: K }, (_, k) => 1 + 0.01 * k);
  for (let it = 0; it < iterations; it++) {
    const Xv = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) Xv[i] += X[i * K + k] * v[k];
    const next = new Float64Array(K);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) next[k] += X[i * K + k] * Xv[i];
    const norm = Math.hypot(...next);
    if (norm === 0) return new Float64Array(n);
    v = next.map((e) => e / norm);
  }
  if (v.reduce((a, b) => a + b, 0) < 0) v = v.map((e) => -e);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) out[i] += X[i * K + k] * v[k];
  return out;
}

/** Saliency before ReLU at feature resolution (h·w), per docs/method.md §1 (HiResCAM: Σ_k g_k ⊙ A_k; EigenCAM: no gradient). */
export function gradientSaliency(method: GradientMethod, A: JsTensor, g: Float64Array): Float64Array {
  if (method === 'eigencam') return principalProjection(A);
  if (!['gradcam', 'gradcampp', 'xgradcam', 'layercam', 'hirescam'].includes(method)) throw new Error(`No reference for ${method}`);
  const [h, w, K] = A.shape;
  const n = h * w;
  const sal = new Float64Array(n);
  for (let k = 0; k < K; k++) {
    let wk = 0;
    let sumA = 0;
    let sumAg = 0;
    for (let i = 0; i < n; i++) {
      sumA += A.data[i * K + k];
      sumAg += A.data[i * K + k] * g[i * K + k];
    }
    if (method === 'gradcam') {
      for (let i = 0; i < n; i++) wk += g[i * K + k] / n;
    } else if (method === 'gradcampp') {
      for (let i = 0; i < n; i++) {
        const gi = g[i * K + k];
        const den = 2 * gi * gi + sumA * gi * gi * gi;
        wk += ((gi * gi) / (den === 0 ? 1 : den)) * Math.max(gi, 0);
      }
    } else if (method === 'xgradcam') {
      wk = sumAg / (sumA + 1e-8);
    }
    for (let i = 0; i < n; i++) {
      const a = A.data[i * K + k];
      const gi = g[i * K + k];
      sal[i] += method === 'layercam' ? Math.max(gi, 0) * a : method === 'hirescam' ? gi * a : wk * a;
    }
  }
  return sal;
}

/** L = N(Up(ReLU(saliency))). */
export function gradientMap(method: GradientMethod, A: JsTensor, g: Float64Array, size: [number, number], variant: NVariant): Float64Array {
  const [h, w] = A.shape;
  return normalize(upsample(relu(gradientSaliency(method, A, g)), h, w, size[0], size[1]), variant);
}

/** x ⊙ M, M (H·W) broadcast over the 3 channels. */
export function maskInput(x: JsTensor, M: ArrayLike<number>): JsTensor {
  return { shape: x.shape, data: x.data.map((v, i) => v * M[Math.floor(i / 3)]) };
}

export type ScoreVariant = 'reference' | 'xplain' | 'original';

export interface ScoreCamReference {
  map: Float64Array;
  /** s_k per channel (NaN for channels the original variant skips). */
  scores: Float64Array;
}

/** Score-CAM exactly as docs/method.md §2, one masked forward pass per channel (no dedupe, no batching). */
export function scoreCam(spec: NetSpec, x: JsTensor, A: JsTensor, c: number, variant: ScoreVariant): ScoreCamReference {
  const [h, w, K] = A.shape;
  const [H, W] = [x.shape[0], x.shape[1]];
  const scores = new Float64Array(K).fill(NaN);
  const sum = new Float64Array(H * W);
  if (variant === 'reference') {
    const U: Float64Array[] = [];
    for (let k = 0; k < K; k++) {
      U.push(upsample(channel(A, k), h, w, H, W));
      scores[k] = jsLogits(spec, maskInput(x, normalize(U[k], 'reference')))[c];
    }
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, scores[k]);
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(scores[k] - m);
    for (let k = 0; k < K; k++) {
      const wk = Math.exp(scores[k] - m) / z;
      for (let i = 0; i < H * W; i++) sum[i] += wk * U[k][i];
    }
    return { map: normalize(relu(sum), 'reference'), scores };
  }
  if (variant === 'xplain') {
    for (let k = 0; k < K; k++) {
      const Hk = upsample(normalize(channel(A, k), 'xplain'), h, w, H, W);
      scores[k] = softmaxAt(jsLogits(spec, maskInput(x, Hk)), c);
      for (let i = 0; i < H * W; i++) sum[i] += scores[k] * Hk[i];
    }
    return { map: normalize(relu(sum), 'xplain'), scores };
  }
  for (let k = 0; k < K; k++) {
    const Uk = upsample(channel(A, k), h, w, H, W);
    let mn = Infinity;
    let mx = -Infinity;
    for (const v of Uk) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    if (mx === mn) continue; // the original code skips constant channels
    scores[k] = softmaxAt(jsLogits(spec, maskInput(x, normalize(Uk, 'reference'))), c);
    for (let i = 0; i < H * W; i++) sum[i] += scores[k] * Uk[i];
  }
  return { map: normalize(relu(sum), 'reference'), scores };
}

export interface FusionReference {
  denoised: Float64Array;
  combined: Float64Array;
  map: Float64Array;
  betaG: number;
  betaR: number;
  betaDR: number;
}

/** Fusion-CAM steps 1–5 (docs/method.md §3) with automatic weights; `p(M)` = p_c(x ⊙ M). */
export function fusion(
  Lg: ArrayLike<number>,
  Lr: ArrayLike<number>,
  p: (M: Float64Array) => number,
  pb: number,
  theta: number,
  tau: number,
  variant: NVariant,
): FusionReference {
  const n = Lg.length;
  const t = percentileNumpy(Lg, theta);
  let denoised: Float64Array;
  if (variant === 'reference') {
    denoised = Float64Array.from(Lg, (v) => (theta > 0 && v < t ? 0 : v));
    denoised = normalize(denoised, 'reference');
  } else {
    denoised = Float64Array.from(Lg, (v) => (v > t ? v : 0));
  }
  const region = Float64Array.from(Lr);
  const betaG = p(denoised) - pb;
  const betaR = p(region) - pb;
  let [wg, wr] = [betaG, betaR];
  if (variant === 'reference') [wg, wr] = [betaG / (betaG + betaR + 1e-8), betaR / (betaG + betaR + 1e-8)];
  const combined = normalize(
    Float64Array.from(denoised, (v, i) => wg * v + wr * region[i]),
    variant,
  );
  const betaDR = p(combined) - pb;
  let [w1, w2] = [betaDR, betaR];
  if (variant === 'reference') [w1, w2] = [betaDR / (betaDR + wr + 1e-8), wr / (betaDR + wr + 1e-8)];
  const F = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const l1 = w1 * combined[i];
    const l2 = w2 * region[i];
    const sim = Math.min(1, Math.max(0, 1 - Math.abs(l1 - l2) / tau));
    F[i] = sim * Math.max(l1, l2) + ((1 - sim) * (l1 + l2)) / 2;
  }
  return { denoised, combined, map: normalize(F, variant), betaG, betaR, betaDR };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as NaN
  }
  return m;
}
