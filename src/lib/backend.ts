/**
 * Backend start-up for the library. Backends are loaded on demand (they are peer dependencies,
 * and importing the webgpu one makes a bare tf.ready() try WebGPU first: platform note 8), and
 * tf.setBackend is always called explicitly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CamError } from '../engine/errors';
import { registerConvGradKernels } from '../engine/convGradKernels';
import { registerWasmFallbackKernels } from '../engine/wasmKernels';

/** A TF.js backend the library can start: wasm and cpu everywhere, webgl and webgpu in a browser. */
export type BackendName = 'wasm' | 'cpu' | 'webgl' | 'webgpu';

export const isNode = (): boolean => typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

/** Starts `name` (Node default: wasm; browser default: webgl) and returns the backend tfjs runs on. */
export async function startBackend(name: BackendName | undefined, wasmPaths?: string): Promise<BackendName> {
  const node = isNode();
  const want: BackendName = name ?? (node ? 'wasm' : 'webgl');
  if (!['wasm', 'cpu', 'webgl', 'webgpu'].includes(want)) throw new CamError(`backend must be wasm, cpu, webgl or webgpu, got "${String(want)}"`, 'bad-backend');
  if (node) {
    if (want !== 'wasm' && want !== 'cpu') throw new CamError(`In Node the backend is wasm or cpu (${want} needs a browser)`, 'bad-backend');
    const { initNodeBackend } = await import('../node/backend');
    await initNodeBackend(want);
    return want;
  }
  if (want === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  else if (want === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
  else if (want === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  else {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (wasmPaths) wasm.setWasmPaths(wasmPaths);
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(want);
    if (ok) await tf.ready();
  } catch {
    ok = false;
  }
  if (!ok || tf.getBackend() !== want) {
    const hint = want === 'wasm' ? ' (is wasmPaths set to the folder that serves tfjs-backend-wasm*.wasm?)' : want === 'webgpu' ? ' (this browser has no WebGPU adapter)' : '';
    throw new CamError(`The ${want} backend could not start${hint}`, 'backend');
  }
  if (want === 'wasm') registerWasmFallbackKernels();
  else if (want === 'cpu') registerConvGradKernels('cpu');
  return want;
}
