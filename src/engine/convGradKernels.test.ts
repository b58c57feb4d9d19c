import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { conv2dBackpropFilterValues, depthwiseBackpropFilterValues, depthwiseBackpropInputValues, registerConvGradKernels } from './convGradKernels';

const CASES = [
  [7, 3, 5, 3, 1, 'same'],
  [9, 4, 2, 3, 2, 'same'],
  [8, 2, 3, 1, 1, 'valid'],
  [10, 3, 4, 5, 2, 'valid'],
] as const;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('fast conv backprop kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // tfjs-cpu's own kernels (registered before ours replace them) are the independent reference.
  it.each(CASES)('match tfjs-cpu gradients (H=%i, ci=%i, co=%i, k=%i, stride=%i, %s)', (H, ci, co, k, s, pad) => {
    const x = tf.randomNormal([2, H, H, ci]) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, ci, co]) as tf.Tensor4D;
    const dy = tf.randomNormal(tf.conv2d(x, w, s, pad).shape) as tf.Tensor4D;
    const want = tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, ww as tf.Tensor4D, s, pad), dy)))(w).dataSync();
    expect(maxDiff(conv2dBackpropFilterValues(x.dataSync(), x.shape, dy.dataSync(), w.shape, s, pad), want)).toBeLessThan(1e-4);

    const dw = tf.randomNormal([k, k, ci, 2]) as tf.Tensor4D;
    const dyd = tf.randomNormal(tf.depthwiseConv2d(x, dw, s, pad).shape) as tf.Tensor4D;
    const wantF = tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(x, ww as tf.Tensor4D, s, pad), dyd)))(dw).dataSync();
    expect(maxDiff(depthwiseBackpropFilterValues(x.dataSync(), x.shape, dyd.dataSync(), dw.shape, s, 1, pad), wantF)).toBeLessThan(1e-4);
    const wantI = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(xx as tf.Tensor4D, dw, s, pad), dyd)))(x).dataSync();
    expect(maxDiff(depthwiseBackpropInputValues(dyd.dataSync(), dw.dataSync(), x.shape, dw.shape, s, 1, pad), wantI)).toBeLessThan(1e-4);
  });

  it('a hand-worked 1×1 filter gradient', () => {
    // x: 1×1×2×1 = [1, 2]; dy: 1×1×2×1 = [3, 4] → dW = 1·3 + 2·4 = 11
    expect(Array.from(conv2dBackpropFilterValues([1, 2], [1, 1, 2, 1], [3, 4], [1, 1, 1, 1], 1, 'valid'))).toEqual([11]);
  });

  it('registered on cpu, tf.grad through a fused conv head uses them and gives the same input gradient', () => {
    const x = tf.randomNormal([1, 6, 6, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const bias = tf.randomNormal([4]) as tf.Tensor1D;
    const f = (xx: tf.Tensor) => tf.sum(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: w, strides: 1, pad: 'same', bias }));
    const before = tf.grad(f)(x).dataSync();
    registerConvGradKernels('cpu');
    const after = tf.grad(f)(x).dataSync();
    expect(maxDiff(before, after)).toBeLessThan(1e-5);
  });
});
