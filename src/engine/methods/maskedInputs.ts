/**
 * Score-CAM's masked inputs x ⊙ H_k for a batch of channels, built with a handful of large ops.
 *
 * The straightforward way (resize each A_k to H×W, min/max, normalise, broadcast-multiply with
 * x) costs ~40 % of a MobileNet forward pass on wasm, mostly in the [b,H,W,1]×[1,H,W,3]
 * broadcast and in full-resolution reductions. Here:
 *
 * - Bilinear upsampling with half-pixel centres is linear, `Up(A) = R_y · A · R_xᵀ`, with
 *   interpolation matrices holding exactly tf.image.resizeBilinear's weights (rows sum to 1).
 * - N commutes with Up (weights sum to 1), so `N(Up(A_k)) = Up((A_k − m)/(M − m))` with m, M the
 *   min and max of Up(A_k). Those extremes need not be found at full resolution: inside one
 *   interpolation cell Up is bilinear, so over the cell's grid of output pixels it peaks at the
 *   first or last row and column of that grid. Only those rows/columns are evaluated.
 * - The last matmul writes each value into all C channels at once (its right matrix repeats
 *   every column C times), so the product with x has no broadcast over channels.
 *
 * Exact up to float rounding: the masks differ from resize-then-normalise by ~1e-7.
 */
import * as tf from '@tensorflow/tfjs-core';

/** 'after-upsampling': H_k = N(Up(A_k)) (reference, original); 'before-upsampling': H_k = Up(N(A_k)) with N's 1e-8 (xplain). */
export type MaskNormalization = 'after-upsampling' | 'before-upsampling';

interface Axis {
  /** [out, in] interpolation weights, row-major */
  weights: Float32Array;
  /** output indices where the extremes of a bilinear interpolation can lie */
  extremeRows: number[];
}

/** tf.image.resizeBilinear(…, alignCorners=false, halfPixelCenters=true) along one axis, as a matrix. */
export function interpolationAxis(inSize: number, outSize: number): Axis {
  const weights = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  const cell: string[] = [];
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.floor(src));
    const hi = Math.min(inSize - 1, Math.ceil(src));
    const frac = src - Math.floor(src);
    if (lo === hi) {
      weights[o * inSize + lo] = 1;
    } else {
      weights[o * inSize + lo] += 1 - frac;
      weights[o * inSize + hi] += frac;
    }
    cell.push(lo === hi ? `${lo}` : `${lo}-${hi}`);
  }
  // first and last output row of every run of rows interpolating between the same two inputs
  const extremeRows: number[] = [];
  for (let o = 0; o < outSize; o++) {
    if (o === 0 || cell[o] !== cell[o - 1] || o === outSize - 1 || cell[o] !== cell[o + 1]) extremeRows.push(o);
  }
  return { weights, extremeRows };
}

function pick(axis: Axis, inSize: number): Float32Array {
  const out = new Float32Array(axis.extremeRows.length * inSize);
  axis.extremeRows.forEach((r, i) => out.set(axis.weights.subarray(r * inSize, (r + 1) * inSize), i * inSize));
  return out;
}

export class MaskedInputBuilder {
  private readonly ry: tf.Tensor3D; // [1, H, h]
  private readonly rxRepeatedT: tf.Tensor2D; // [w, W·C]
  private readonly ryExt: tf.Tensor3D; // [1, n_y, h]
  private readonly rxExtT: tf.Tensor2D; // [w, n_x]
  private readonly Ahwk: tf.Tensor3D; // [h, w, K]

  constructor(
    private readonly x: tf.Tensor4D,
    A: tf.Tensor4D,
    private readonly normalization: MaskNormalization,
  ) {
    const [, H, W, C] = x.shape;
    const [, h, w] = A.shape;
    const ay = interpolationAxis(h, H);
    const ax = interpolationAxis(w, W);
    // R_x repeated: column j·C + c of the right factor is row j of R_x (same weight in every channel)
    const rep = new Float32Array(w * W * C);
    for (let j = 0; j < W; j++) for (let q = 0; q < w; q++) for (let c = 0; c < C; c++) rep[q * W * C + j * C + c] = ax.weights[j * w + q];
    const rxExt = pick(ax, w);
    const nx = ax.extremeRows.length;
    const rxExtT = new Float32Array(w * nx);
    for (let i = 0; i < nx; i++) for (let q = 0; q < w; q++) rxExtT[q * nx + i] = rxExt[i * w + q];
    this.ry = tf.tensor3d(ay.weights, [1, H, h]);
    this.rxRepeatedT = tf.tensor2d(rep, [w, W * C]);
    this.ryExt = tf.tensor3d(pick(ay, h), [1, ay.extremeRows.length, h]);
    this.rxExtT = tf.tensor2d(rxExtT, [w, nx]);
    this.Ahwk = tf.reshape(A, [h, w, -1]) as tf.Tensor3D;
  }

  /** The normalised maps H_k of `channels` at feature resolution, [b, h, w] (upsampling them gives the masks). */
  lowResMasks(channels: number[]): tf.Tensor3D {
    return tf.tidy(() => {
      const idx = tf.tensor1d(channels, 'int32');
      const Ak = tf.transpose(tf.gather(this.Ahwk, idx, 2), [2, 0, 1]) as tf.Tensor3D; // [b, h, w]
      if (this.normalization === 'before-upsampling') {
        const mn = tf.min(Ak, [1, 2], true);
        const mx = tf.max(Ak, [1, 2], true);
        return tf.div(tf.sub(Ak, mn), tf.add(tf.sub(mx, mn), 1e-8)) as tf.Tensor3D;
      }
      // extremes of Up(A_k) from the few output rows/columns where they can be
      const Uext = tf.matMul(tf.matMul(this.ryExt, Ak), this.rxExtT); // [b, n_y, n_x]
      const mn = tf.min(Uext, [1, 2], true);
      const mx = tf.max(Uext, [1, 2], true);
      return tf.div(tf.sub(Ak, mn), tf.sub(mx, mn)) as tf.Tensor3D;
    });
  }

  /** Masks at input resolution in every input channel, [b, H, W, C]. */
  masks(channels: number[]): tf.Tensor4D {
    return tf.tidy(() => {
      const [, H, W, C] = this.x.shape;
      const n = this.lowResMasks(channels);
      const b = channels.length;
      const t = tf.matMul(this.ry, n); // [b, H, w]
      return tf.reshape(tf.matMul(tf.reshape(t, [b * H, -1]), this.rxRepeatedT), [b, H, W, C]) as tf.Tensor4D;
    });
  }

  /** x ⊙ H_k for each channel: [b, H, W, C]. */
  maskedInputs(channels: number[]): tf.Tensor4D {
    return tf.tidy(() => tf.mul(this.masks(channels), this.x) as tf.Tensor4D);
  }

  dispose(): void {
    tf.dispose([this.ry, this.rxRepeatedT, this.ryExt, this.rxExtT, this.Ahwk]);
  }
}
