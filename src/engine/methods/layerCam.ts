/** LayerCAM (Jiang et al. 2021; docs/method.md §1): saliency Σ_k ReLU(g_k) ⊙ A_k, pixel by pixel. */
import * as tf from '@tensorflow/tfjs-core';
import { featureMapMethod } from './method';

export const layerCam = featureMapMethod({
  id: 'layercam',
  label: 'LayerCAM',
  family: 'gradient',
  needs: { gradients: true, forwardPasses: false },
  saliency: ({ A, gradients }) => tf.tidy(() => tf.sum(tf.mul(tf.relu(gradients()), A), -1) as tf.Tensor2D),
});
