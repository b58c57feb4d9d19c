/** Backend set-up for Node (CLI, tests, scripts): wasm by default, cpu as the plain fallback. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerWasmFallbackKernels } from '../engine/wasmKernels';
import { registerConvGradKernels } from '../engine/convGradKernels';

export type NodeBackend = 'wasm' | 'cpu';

/** tfjs-backend-cpu prints a 'use tfjs-node' banner on first use in Node; tfjs-node needs a native download, which we avoid. */
function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}

export async function initNodeBackend(name: NodeBackend = 'wasm'): Promise<string> {
  silenceCpuBanner();
  if (name === 'wasm') {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(dir + path.sep);
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`The ${name} backend could not start`);
  await tf.ready();
  if (name === 'wasm') registerWasmFallbackKernels();
  else registerConvGradKernels('cpu');
  return tf.getBackend();
}
