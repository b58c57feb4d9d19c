/**
 * The gradient family (spec §1): each method turns the target-layer activations A and the
 * gradient g = ∂z_c/∂A (both h×w×K) into a saliency map at feature resolution; the shared tail
 * is L = N(Up(ReLU(saliency))).
 */
import * as tf from '@tensorflow/tfjs-core';

export type GradientMethodId = 'gradcam' | 'gradcampp' | 'xgradcam' | 'layercam';

export interface GradientCamMethod {
  id: GradientMethodId;
  label: string;
  /** A, g: [h, w, K] → saliency before ReLU: [h, w]. */
  saliency(A: tf.Tensor3D, g: tf.Tensor3D): tf.Tensor2D;
}

/** Grad-CAM: α_k = mean_ij g_k(i,j); Σ_k α_k A_k. */
export const gradCam: GradientCamMethod = {
  id: 'gradcam',
  label: 'Grad-CAM',
  saliency: (A, g) => tf.tidy(() => tf.sum(tf.mul(A, tf.mean(g, [0, 1])), -1) as tf.Tensor2D),
};

/**
 * Grad-CAM++ as the reference code (the Grad-CAM++ paper's closed form):
 * a = g² / (2g² + Σ_ab A_k(a,b)·g³) (0 denominator → 1), w_k = Σ_ij a·ReLU(g).
 */
export const gradCamPlusPlus: GradientCamMethod = {
  id: 'gradcampp',
  label: 'Grad-CAM++',
  saliency: (A, g) =>
    tf.tidy(() => {
      const g2 = tf.square(g);
      const g3 = tf.mul(g2, g);
      const sumA = tf.sum(A, [0, 1]);
      const denom = tf.add(tf.mul(g2, 2), tf.mul(sumA, g3));
      const safe = tf.where(tf.equal(denom, 0), tf.onesLike(denom), denom);
      const alpha = tf.div(g2, safe);
      const w = tf.sum(tf.mul(alpha, tf.relu(g)), [0, 1]);
      return tf.sum(tf.mul(A, w), -1) as tf.Tensor2D;
    }),
};

/** XGrad-CAM: w_k = Σ_ij A_k·g_k / (Σ_ij A_k + 1e-8). */
export const xGradCam: GradientCamMethod = {
  id: 'xgradcam',
  label: 'XGrad-CAM',
  saliency: (A, g) =>
    tf.tidy(() => {
      const w = tf.div(tf.sum(tf.mul(A, g), [0, 1]), tf.add(tf.sum(A, [0, 1]), 1e-8));
      return tf.sum(tf.mul(A, w), -1) as tf.Tensor2D;
    }),
};

/** LayerCAM: Σ_k ReLU(g_k) ⊙ A_k, pixel by pixel. */
export const layerCam: GradientCamMethod = {
  id: 'layercam',
  label: 'LayerCAM',
  saliency: (A, g) => tf.tidy(() => tf.sum(tf.mul(tf.relu(g), A), -1) as tf.Tensor2D),
};

export const GRADIENT_METHODS: Record<GradientMethodId, GradientCamMethod> = {
  gradcam: gradCam,
  gradcampp: gradCamPlusPlus,
  xgradcam: xGradCam,
  layercam: layerCam,
};

/** ReLU at feature resolution, then bilinear upsampling (half-pixel centres) to H×W: [H, W] values. */
export async function reluUpsample(saliency: tf.Tensor2D, size: [number, number]): Promise<Float32Array> {
  const up = tf.tidy(() => {
    const s = tf.relu(saliency);
    return tf.image.resizeBilinear(tf.reshape(s, [1, saliency.shape[0], saliency.shape[1], 1]) as tf.Tensor4D, size, false, true);
  });
  const data = (await up.data()) as Float32Array;
  up.dispose();
  return data;
}
