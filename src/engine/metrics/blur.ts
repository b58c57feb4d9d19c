/**
 * Gaussian blur as the authors' code does it: kornia `gaussian_blur2d(x, (k, k), (σ, σ))`, whose
 * default border is 'reflect' = PyTorch `F.pad(mode='reflect')`, i.e. mirror WITHOUT repeating
 * the edge pixel (…, x2, x1 | x0, x1, x2, …; OpenCV's BORDER_REFLECT_101, TF's MirrorPad
 * REFLECT). The kernel is kornia's: g(i) = exp(−(i − ⌊k/2⌋)²/(2σ²)) normalised to sum 1, applied
 * separably. Used by the insertion metric (σ = 50) and by Group-CAM (σ = 50 or 25).
 *
 * Padding is built with gathers of reflected indices, so it also works when the kernel is wider
 * than the image (PyTorch refuses that case; we keep reflecting, which is the natural extension).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface BlurOptions {
  /** Odd kernel size k (k×k). Default 51. */
  kernelSize?: number;
  /** Standard deviation in pixels. Default 50. */
  sigma?: number;
}

/** kornia get_gaussian_kernel1d(k, σ). */
export function gaussianKernel1d(kernelSize: number, sigma: number): Float32Array {
  if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new Error(`Blur kernel size must be a positive integer, got ${kernelSize}`);
  if (!(sigma > 0)) throw new Error(`Blur σ must be > 0, got ${sigma}`);
  const half = Math.floor(kernelSize / 2);
  const even = kernelSize % 2 === 0 ? 0.5 : 0;
  const g = new Float64Array(kernelSize);
  let sum = 0;
  for (let i = 0; i < kernelSize; i++) {
    const x = i - half + even;
    g[i] = Math.exp(-(x * x) / (2 * sigma * sigma));
    sum += g[i];
  }
  return Float32Array.from(g, (v) => v / sum);
}

/** Index i (possibly outside [0, n)) reflected into [0, n) without repeating the edge. */
export function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

function paddedIndices(n: number, before: number, after: number): tf.Tensor1D {
  const idx = new Int32Array(n + before + after);
  for (let i = 0; i < idx.length; i++) idx[i] = reflect101(i - before, n);
  return tf.tensor1d(idx, 'int32');
}

/** Blurs each channel of x [B, H, W, C]; returns a new tensor of the same shape. */
export function gaussianBlur(x: tf.Tensor4D, opts: BlurOptions = {}): tf.Tensor4D {
  const k = opts.kernelSize ?? 51;
  const sigma = opts.sigma ?? 50;
  const kernel = gaussianKernel1d(k, sigma);
  return tf.tidy(() => {
    const [, H, W, C] = x.shape;
    // 'same' output: (k − 1)/2 before, k/2 after (kornia's _compute_padding for odd and even k)
    const before = Math.floor((k - 1) / 2);
    const after = k - 1 - before;
    const padded = tf.gather(tf.gather(x, paddedIndices(H, before, after), 1), paddedIndices(W, before, after), 2) as tf.Tensor4D;
    const kTensor = tf.tensor1d(kernel);
    // depthwise [kh, kw, C, 1]: the same 1-D kernel for every channel
    const kx = tf.tile(tf.reshape(kTensor, [1, k, 1, 1]), [1, 1, C, 1]) as tf.Tensor4D;
    const ky = tf.tile(tf.reshape(kTensor, [k, 1, 1, 1]), [1, 1, C, 1]) as tf.Tensor4D;
    const rows = tf.depthwiseConv2d(padded, kx, 1, 'valid');
    return tf.depthwiseConv2d(rows, ky, 1, 'valid');
  });
}
