/**
 * Backend choice inside the engine worker. WebGL only when the GPU is real: on a software
 * rasteriser (SwiftShader, llvmpipe) WebGL is 10–50× slower than wasm on the same CPU
 * (pitfall 5), so "auto" then picks wasm, and cpu if wasm cannot start.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerWasmFallbackKernels } from '../engine/wasmKernels';
import type { BackendChoice, BackendName } from './protocol';

// Pitfall 2: the .wasm files are emitted as hashed assets and named explicitly.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render driver/i;

/** The WebGL renderer string, or null when WebGL is unavailable. */
export function webglRenderer(): string | null {
  try {
    const canvas = new OffscreenCanvas(1, 1);
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return renderer || null;
  } catch {
    return null;
  }
}

export function isSoftwareRenderer(renderer: string | null): boolean {
  return renderer === null || SOFTWARE_RENDERER.test(renderer);
}

async function trySetBackend(name: BackendName): Promise<boolean> {
  try {
    // setBackend resolves false (or throws) when the backend cannot initialise
    const ok = await tf.setBackend(name);
    if (!ok) return false;
    await tf.ready();
    if (name === 'wasm') registerWasmFallbackKernels();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
}

export interface BackendState {
  backend: BackendName;
  renderer: string | null;
  note?: string;
  wasmThreads?: number;
  /** WebGL only: whether textures hold float32 (false = float16, less exact). */
  webglFloat32?: boolean;
}

/** Which wasm build to use: the best the browser supports, or a simpler one (comparisons, debugging). */
export type WasmBuild = 'auto' | 'simd' | 'plain';

export async function selectBackend(choice: BackendChoice, wasmBuild: WasmBuild = 'auto'): Promise<BackendState> {
  if (wasmBuild !== 'auto') {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (wasmBuild === 'plain') tf.env().set('WASM_HAS_SIMD_SUPPORT', false);
  }
  const renderer = webglRenderer();
  let order: BackendName[];
  let note: string | undefined;
  if (choice === 'auto') {
    if (renderer && !isSoftwareRenderer(renderer)) order = ['webgl', 'wasm', 'cpu'];
    else {
      order = ['wasm', 'cpu'];
      note = renderer ? `WebGL is software-rendered (${renderer}); using WebAssembly instead.` : 'WebGL is not available; using WebAssembly instead.';
    }
  } else {
    order = [choice, ...(['wasm', 'cpu'] as BackendName[]).filter((b) => b !== choice)];
  }
  for (const name of order) {
    if (await trySetBackend(name)) {
      if (choice !== 'auto' && name !== choice) note = `The ${choice} backend could not start; using ${name}.`;
      const webglFloat32 = name === 'webgl' ? tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') : undefined;
      if (webglFloat32 === false) note = [note, 'This GPU renders only float16 textures: maps are less exact than on wasm.'].filter(Boolean).join(' ');
      return { backend: name, renderer, note, webglFloat32, wasmThreads: name === 'wasm' ? getThreadsCount() : undefined };
    }
  }
  throw new Error('No TensorFlow.js backend could start in this browser');
}

/** tfjs's webgl backend internals this file needs (not in its public types). */
interface WebglInternals {
  gpgpu?: { gl?: WebGLRenderingContext | WebGL2RenderingContext; itemsToPoll?: unknown[] };
}

function webglInternals(): WebglInternals | null {
  try {
    return (tf.findBackend('webgl') as unknown as WebglInternals | null) ?? null;
  } catch {
    return null;
  }
}

/** The WebGL context tfjs computes on, when webgl is the backend in use. */
export function webglContext(): WebGLRenderingContext | WebGL2RenderingContext | null {
  if (tf.getBackend() !== 'webgl') return null;
  return webglInternals()?.gpgpu?.gl ?? null;
}

/** True when the backend in use is webgl and its context is gone (GPU reset, driver, or a forced loss). */
export function isWebglContextLost(): boolean {
  const gl = webglContext();
  return gl !== null && gl.isContextLost();
}

/** Calls `onLost` once when the current webgl context is lost; returns a function that stops watching. */
export function watchWebglContext(onLost: () => void): () => void {
  const canvas = webglContext()?.canvas as (OffscreenCanvas | HTMLCanvasElement) | undefined;
  if (!canvas) return () => undefined;
  const listener = () => onLost();
  canvas.addEventListener('webglcontextlost', listener);
  return () => canvas.removeEventListener('webglcontextlost', listener);
}

/** Forces a context loss through WEBGL_lose_context (the diagnostics hook; what a GPU reset does). */
export function loseWebglContext(): boolean {
  const ext = webglContext()?.getExtension('WEBGL_lose_context');
  if (!ext) return false;
  ext.loseContext();
  return true;
}

/**
 * Throws away a webgl backend whose context was lost, so the next setBackend('webgl') builds a
 * fresh one on a new context. Work waiting on the old context's fences would poll forever (a
 * lost context never signals them); the poll list is emptied so that loop stops.
 */
export function discardWebglBackend(): void {
  const gpgpu = webglInternals()?.gpgpu;
  if (gpgpu?.itemsToPoll) gpgpu.itemsToPoll.length = 0;
  try {
    tf.removeBackend('webgl');
  } catch {
    // disposing GL objects of a lost context may fail; they are gone with it anyway
  }
  tf.registerBackend('webgl', () => new MathBackendWebGL(), 2);
}
