/**
 * HiResCAM (Draelos & Carin 2020): saliency Σ_k g_k ⊙ A_k, the element-wise product of gradient
 * and activation summed over channels (Grad-CAM without averaging the gradient over positions).
 */
import * as tf from '@tensorflow/tfjs-core';
import { featureMapMethod } from './method';

export const hiResCam = featureMapMethod({
  id: 'hirescam',
  label: 'HiResCAM',
  family: 'gradient',
  needs: { gradients: true, forwardPasses: false },
  saliency: ({ A, gradients }) => tf.tidy(() => tf.sum(tf.mul(gradients(), A), -1) as tf.Tensor2D),
});
