/**
 * EigenCAM (Muhammad & Yeasin 2020): the projection of the target-layer activations on their
 * first principal component. No gradients and no extra forward pass: it runs on any model,
 * including a GraphModel without gradient support.
 *
 * As pytorch-grad-cam's get_2d_projection (pytorch_grad_cam/utils/svd_on_activations.py, read at
 * commits 273bd81 (torch.linalg.svd) and 6f0f161 (numpy.linalg.svd); both the same maths):
 *   X = A reshaped to (h·w, K), mean-centred over positions; U, S, Vᵀ = svd(X);
 *   projection = X · Vᵀ[0]  (h·w values).
 * Neither version fixes the sign of Vᵀ[0]: it is whatever the SVD routine returns (LAPACK leaves
 * it open), so their map can come out inverted. We fix it: Vᵀ[0] is taken with a positive sum of
 * its components (the direction in which the channels rise together; a tie at 0 goes to the
 * component of largest magnitude being positive). Note that the projection itself always sums to
 * 0 (X is centred), so "mostly positive" cannot be the rule.
 *
 * Tail: the gradient family's, L = N(Up(ReLU(projection))) (ReLU at feature resolution, then
 * bilinear upsampling with half-pixel centres, then N). pytorch-grad-cam applies the ReLU too
 * (np.maximum(cam, 0)) but normalises before resizing (scale_cam_image, with 1e-7 in the
 * denominator), which differs from ours by the interpolation's rounding only.
 *
 * Vᵀ[0] is computed in float64 from the smaller Gram matrix (XᵀX, K×K, or XXᵀ, h·w × h·w) by
 * cyclic Jacobi rotations: exact to rounding, no convergence-rate caveat of power iteration.
 */
import * as tf from '@tensorflow/tfjs-core';
import { featureMapMethod } from './method';

/** Eigenvector of the largest eigenvalue of a symmetric n×n matrix (row-major, float64; overwritten). */
export function topEigenvector(S: Float64Array, n: number): Float64Array {
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += S[i] * S[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += S[p * n + q] * S[p * n + q];
    if (!(off > 1e-30 * total)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = S[p * n + q];
        if (apq === 0) continue;
        const app = S[p * n + p];
        const aqq = S[q * n + q];
        // rotation angle that zeroes S[p][q] (Golub & Van Loan, symmetric Schur decomposition)
        const tau = (aqq - app) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const skp = S[k * n + p];
          const skq = S[k * n + q];
          S[k * n + p] = c * skp - s * skq;
          S[k * n + q] = s * skp + c * skq;
        }
        for (let k = 0; k < n; k++) {
          const spk = S[p * n + k];
          const sqk = S[q * n + k];
          S[p * n + k] = c * spk - s * sqk;
          S[q * n + k] = s * spk + c * sqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p];
          const vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (S[i * n + i] > S[best * n + best]) best = i;
  return Float64Array.from({ length: n }, (_, k) => V[k * n + best]);
}

/**
 * X·Vᵀ[0] for X = the (n positions × K channels) activations, mean-centred over positions, with
 * the sign rule above. An all-constant layer (X = 0) gives zeros.
 */
export function firstPrincipalProjection(A: ArrayLike<number>, n: number, K: number): Float64Array {
  const X = new Float64Array(n * K);
  for (let k = 0; k < K; k++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += A[i * K + k];
    mean /= n;
    for (let i = 0; i < n; i++) X[i * K + k] = A[i * K + k] - mean;
  }
  let v: Float64Array;
  if (K <= n) {
    const S = new Float64Array(K * K);
    for (let i = 0; i < n; i++) for (let a = 0; a < K; a++) for (let b = a; b < K; b++) S[a * K + b] += X[i * K + a] * X[i * K + b];
    for (let a = 0; a < K; a++) for (let b = 0; b < a; b++) S[a * K + b] = S[b * K + a];
    v = topEigenvector(S, K);
  } else {
    // the right singular vector from the left one: v ∝ Xᵀu
    const G = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += X[i * K + k] * X[j * K + k];
      G[i * n + j] = s;
      G[j * n + i] = s;
    }
    const u = topEigenvector(G, n);
    v = new Float64Array(K);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) v[k] += X[i * K + k] * u[i];
    let norm = 0;
    for (let k = 0; k < K; k++) norm += v[k] * v[k];
    norm = Math.sqrt(norm);
    if (norm > 0) for (let k = 0; k < K; k++) v[k] /= norm;
  }
  let sum = 0;
  let largest = 0;
  for (let k = 0; k < K; k++) {
    sum += v[k];
    if (Math.abs(v[k]) > Math.abs(v[largest])) largest = k;
  }
  const flip = sum < 0 || (sum === 0 && v[largest] < 0) ? -1 : 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += X[i * K + k] * v[k];
    out[i] = flip * s;
  }
  return out;
}

export const eigenCam = featureMapMethod({
  id: 'eigencam',
  label: 'EigenCAM',
  family: 'activation',
  needs: { gradients: false, forwardPasses: false },
  async saliency({ A }) {
    const [h, w, K] = A.shape;
    const projection = firstPrincipalProjection(await A.data(), h * w, K);
    return tf.tensor2d(Float32Array.from(projection), [h, w]);
  },
});
