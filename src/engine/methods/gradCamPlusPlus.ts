/**
 * Grad-CAM++ (Chattopadhyay et al. 2018; docs/method.md §1) as the reference code, the paper's closed form:
 * a = g² / (2g² + Σ_ab A_k(a,b)·g³) (a 0 denominator counts as 1), w_k = Σ_ij a·ReLU(g);
 * saliency Σ_k w_k A_k.
 */
import * as tf from '@tensorflow/tfjs-core';
import { featureMapMethod } from './method';

export const gradCamPlusPlus = featureMapMethod({
  id: 'gradcampp',
  label: 'Grad-CAM++',
  family: 'gradient',
  needs: { gradients: true, forwardPasses: false },
  saliency: ({ A, gradients }) =>
    tf.tidy(() => {
      const g = gradients();
      const g2 = tf.square(g);
      const g3 = tf.mul(g2, g);
      const sumA = tf.sum(A, [0, 1]);
      const denom = tf.add(tf.mul(g2, 2), tf.mul(sumA, g3));
      const safe = tf.where(tf.equal(denom, 0), tf.onesLike(denom), denom);
      const alpha = tf.div(g2, safe);
      const w = tf.sum(tf.mul(alpha, tf.relu(g)), [0, 1]);
      return tf.sum(tf.mul(A, w), -1) as tf.Tensor2D;
    }),
});
