/** XGrad-CAM (Fu et al. 2020; docs/method.md §1, as xplain): w_k = Σ_ij A_k·g_k / (Σ_ij A_k + 1e-8); saliency Σ_k w_k A_k. */
import * as tf from '@tensorflow/tfjs-core';
import { featureMapMethod } from './method';

export const xGradCam = featureMapMethod({
  id: 'xgradcam',
  label: 'XGrad-CAM',
  family: 'gradient',
  needs: { gradients: true, forwardPasses: false },
  saliency: ({ A, gradients }) =>
    tf.tidy(() => {
      const w = tf.div(tf.sum(tf.mul(A, gradients()), [0, 1]), tf.add(tf.sum(A, [0, 1]), 1e-8));
      return tf.sum(tf.mul(A, w), -1) as tf.Tensor2D;
    }),
});
