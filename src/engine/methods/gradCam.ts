/** Grad-CAM (Selvaraju et al. 2017; docs/method.md §1): α_k = mean_ij ∂z_c/∂A_k(i,j); saliency Σ_k α_k A_k. */
import * as tf from '@tensorflow/tfjs-core';
import { featureMapMethod } from './method';

export const gradCam = featureMapMethod({
  id: 'gradcam',
  label: 'Grad-CAM',
  family: 'gradient',
  needs: { gradients: true, forwardPasses: false },
  saliency: ({ A, gradients }) => tf.tidy(() => tf.sum(tf.mul(A, tf.mean(gradients(), [0, 1])), -1) as tf.Tensor2D),
});
