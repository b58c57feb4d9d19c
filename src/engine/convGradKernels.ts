/**
 * Fast typed-array implementations of the convolution backprop kernels that tf.grad needs
 * through a model head. wasm has none of them, and the cpu backend's versions go through
 * TensorBuffer.get per element (≈ 9 s for Darknet-tiny's 14×14×128→1000 head on this CPU;
 * these take tens of milliseconds). tfjs's fused conv gradient computes the filter gradient even
 * when only ∂/∂input is wanted, so Grad-CAM hits Conv2DBackpropFilter on every conv head.
 */
import * as tf from '@tensorflow/tfjs-core';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s−top+kh·d, ow·s−left+kw·d, ci] · dy[b,oh,ow,co] (NHWC). */
export function conv2dBackpropFilterValues(
  x: ArrayLike<number>,
  xShape: [number, number, number, number],
  dy: ArrayLike<number>,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: Rounding,
): Float32Array {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const dW = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyOff = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight - top + kh;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - left + kw;
            if (iw < 0 || iw >= inWidth) continue;
            const xOff = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            const wOff = (kh * filterWidth + kw) * inChannels * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xv = x[xOff + ci];
              if (xv === 0) continue;
              const row = wOff + ci * outChannels;
              for (let co = 0; co < outChannels; co++) dW[row + co] += xv * dy[dyOff + co];
            }
          }
        }
      }
    }
  }
  return Float32Array.from(dW);
}

interface DepthwiseGeometry {
  info: tf.backend_util.Conv2DInfo;
  mult: number;
}

function depthwiseInfo(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode?: Rounding,
): DepthwiseGeometry {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode, true);
  return { info, mult: filterShape[3] };
}

/** Depthwise filter gradient: dW[kh,kw,c,m] = Σ x[b, ih, iw, c] · dy[b,oh,ow,c·M+m]. */
export function depthwiseBackpropFilterValues(
  x: ArrayLike<number>,
  xShape: [number, number, number, number],
  dy: ArrayLike<number>,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode?: Rounding,
): Float32Array {
  const { info, mult } = depthwiseInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const dW = new Float64Array(filterHeight * filterWidth * inChannels * mult);
  for (let b = 0; b < batchSize; b++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++) {
        const dyOff = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight - top + kh * dilationHeight;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - left + kw * dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            const xOff = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            const wOff = (kh * filterWidth + kw) * inChannels * mult;
            for (let c = 0; c < inChannels; c++) {
              const xv = x[xOff + c];
              for (let m = 0; m < mult; m++) dW[wOff + c * mult + m] += xv * dy[dyOff + c * mult + m];
            }
          }
        }
      }
  return Float32Array.from(dW);
}

/** Depthwise input gradient: dx[b,ih,iw,c] = Σ dy[b,oh,ow,c·M+m] · W[kh,kw,c,m]. */
export function depthwiseBackpropInputValues(
  dy: ArrayLike<number>,
  filter: ArrayLike<number>,
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode?: Rounding,
): Float32Array {
  const { info, mult } = depthwiseInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const dx = new Float64Array(batchSize * inHeight * inWidth * inChannels);
  for (let b = 0; b < batchSize; b++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++) {
        const dyOff = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight - top + kh * dilationHeight;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - left + kw * dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            const xOff = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            const wOff = (kh * filterWidth + kw) * inChannels * mult;
            for (let c = 0; c < inChannels; c++) {
              let s = 0;
              for (let m = 0; m < mult; m++) s += dy[dyOff + c * mult + m] * filter[wOff + c * mult + m];
              dx[xOff + c] += s;
            }
          }
        }
      }
  return Float32Array.from(dx);
}

interface BackendLike {
  readSync(dataId: object): ArrayLike<number>;
}

type KernelOut = (backend: tf.KernelBackend, shape: number[], values: Float32Array) => tf.TensorInfo;

/** Output writers per backend (each stores data its own way). */
const OUTPUT: Record<string, KernelOut> = {
  wasm: (backend, shape, values) => {
    const b = backend as unknown as { makeOutput(s: number[], d: tf.DataType): tf.TensorInfo; typedArrayFromHeap(i: tf.TensorInfo): Float32Array };
    const out = b.makeOutput(shape, 'float32');
    b.typedArrayFromHeap(out).set(values);
    return out;
  },
  cpu: (backend, shape, values) => {
    const b = backend as unknown as { makeTensorInfo(s: number[], d: tf.DataType, v: Float32Array): tf.TensorInfo };
    return b.makeTensorInfo(shape, 'float32', values);
  },
};

const registeredFor = new Set<string>();

/**
 * Registers the three kernels for `backendName` ('wasm' or 'cpu'), replacing slower ones.
 * Safe to call more than once.
 */
export function registerConvGradKernels(backendName: 'wasm' | 'cpu'): void {
  if (registeredFor.has(backendName)) return;
  const write = OUTPUT[backendName];
  const read = (backend: tf.KernelBackend, t: tf.TensorInfo) => (backend as unknown as BackendLike).readSync(t.dataId);
  const kernels: tf.KernelConfig[] = [
    {
      kernelName: 'Conv2DBackpropFilter',
      backendName,
      kernelFunc: ({ inputs, attrs, backend: b }) => {
        const backend = b as tf.KernelBackend;
        const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
        const a = attrs as unknown as { strides: [number, number]; pad: Pad; dataFormat: string; dimRoundingMode?: Rounding; filterShape: [number, number, number, number] };
        if (a.dataFormat && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter: only NHWC is supported');
        const v = conv2dBackpropFilterValues(read(backend, x), x.shape as [number, number, number, number], read(backend, dy), a.filterShape, a.strides, a.pad, a.dimRoundingMode);
        return write(backend, a.filterShape, v);
      },
    },
    {
      kernelName: 'DepthwiseConv2dNativeBackpropFilter',
      backendName,
      kernelFunc: ({ inputs, attrs, backend: b }) => {
        const backend = b as tf.KernelBackend;
        const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
        const a = attrs as unknown as { strides: [number, number]; dilations: [number, number]; pad: Pad; dimRoundingMode?: Rounding; filterShape: [number, number, number, number] };
        const v = depthwiseBackpropFilterValues(read(backend, x), x.shape as [number, number, number, number], read(backend, dy), a.filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode);
        return write(backend, a.filterShape, v);
      },
    },
    {
      kernelName: 'DepthwiseConv2dNativeBackpropInput',
      backendName,
      kernelFunc: ({ inputs, attrs, backend: b }) => {
        const backend = b as tf.KernelBackend;
        const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
        const a = attrs as unknown as { strides: [number, number]; dilations: [number, number]; pad: Pad; dimRoundingMode?: Rounding; inputShape: [number, number, number, number] };
        const v = depthwiseBackpropInputValues(read(backend, dy), read(backend, filter), a.inputShape, filter.shape as [number, number, number, number], a.strides, a.dilations, a.pad, a.dimRoundingMode);
        return write(backend, a.inputShape, v);
      },
    },
  ];
  for (const k of kernels) {
    if (tf.getKernel(k.kernelName, backendName)) tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel(k);
  }
  registeredFor.add(backendName);
}
