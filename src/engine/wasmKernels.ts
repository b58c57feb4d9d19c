/**
 * The wasm backend has no Conv2DBackpropFilter or depthwise backprop kernels, and tfjs's fused
 * conv gradient computes the filter gradient even when only ∂/∂input is wanted, so tf.grad
 * through a model head fails on wasm. We register those kernels on wasm by running the cpu
 * backend's own implementation on copies of the data: exact, and only slower for these ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerConvGradKernels } from './convGradKernels';

interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: ArrayLike<number>): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): { set(v: ArrayLike<number>): void };
}
interface CpuBackendLike {
  write(values: ArrayLike<number>, shape: number[], dtype: tf.DataType): object;
  readSync(dataId: object): ArrayLike<number>;
  disposeData(dataId: object, force?: boolean): boolean;
}

let registered = false;

/**
 * Makes tf.grad work on wasm: fast conv backprop kernels, plus cpu-backed fallbacks for a few
 * other kernels wasm lacks (once). Call after the wasm backend is set.
 */
export function registerWasmFallbackKernels(): string[] {
  if (registered) return [];
  if (tf.getKernelsForBackend('wasm').length === 0) return []; // wasm backend not loaded
  // The conv backprop kernels get fast typed-array versions; anything else missing is bridged to cpu.
  registerConvGradKernels('wasm');
  const wasmKernels = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  if (wasmKernels.size === 0) return []; // wasm backend not loaded
  const cpu = tf.findBackend('cpu') as unknown as CpuBackendLike | null;
  if (!cpu) throw new Error('The cpu backend must be registered to patch the wasm backend');
  const added: string[] = [];
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (wasmKernels.has(k.kernelName)) continue;
    if (!['UnsortedSegmentSum', 'Einsum'].includes(k.kernelName)) continue;
    tf.registerKernel({
      kernelName: k.kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const wasm = backend as unknown as WasmBackendLike;
        const temps: object[] = [];
        const cpuInputs: Record<string, tf.TensorInfo> = {};
        for (const [name, info] of Object.entries(inputs as Record<string, tf.TensorInfo>)) {
          const dataId = cpu.write(wasm.readSync(info.dataId), info.shape, info.dtype);
          temps.push(dataId);
          cpuInputs[name] = { dataId, shape: info.shape, dtype: info.dtype };
        }
        try {
          const out = k.kernelFunc({ inputs: cpuInputs, attrs, backend: cpu as unknown as tf.KernelBackend });
          const outs = Array.isArray(out) ? out : [out];
          const results = outs.map((o) => {
            temps.push(o.dataId);
            const r = wasm.makeOutput(o.shape, o.dtype);
            wasm.typedArrayFromHeap(r).set(cpu.readSync(o.dataId));
            return r;
          });
          return Array.isArray(out) ? results : results[0];
        } finally {
          for (const id of temps) cpu.disposeData(id, true);
        }
      },
    });
    added.push(k.kernelName);
  }
  registered = true;
  return added;
}
