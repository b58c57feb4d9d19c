/**
 * The feature-map methods' shared tail (docs/method.md §1): L = N(Up(ReLU(saliency))): ReLU at feature
 * resolution, then bilinear upsampling with half-pixel centres to the input size, then N.
 */
import * as tf from '@tensorflow/tfjs-core';

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
