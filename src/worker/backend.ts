/**
 * Backend choice inside the engine worker. WebGL only when the GPU is real: on a software
 * rasteriser (SwiftShader, llvmpipe) WebGL is 10–50× slower than wasm on the same CPU
 * (docs/platform-notes.md note 5), so "auto" then picks wasm, and cpu if wasm cannot start. WebGPU only on a
 * hardware adapter, and only when a short probe finds it faster than what auto would pick
 * otherwise (WebGL on a real GPU, else wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerWasmFallbackKernels } from '../engine/wasmKernels';
import { isSoftwareAdapter, setupWebgpuBackend, webgpuAdapterInfo, type WebgpuAdapterInfo } from '../engine/webgpuBackend';
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

/** Why the last trySetBackend('webgpu') failed (for the note). */
let webgpuFailure = '';
let webgpuSetup: Awaited<ReturnType<typeof setupWebgpuBackend>> | null = null;

async function trySetBackend(name: BackendName): Promise<boolean> {
  if (name === 'webgpu') {
    try {
      webgpuSetup = await setupWebgpuBackend();
      return true;
    } catch (e) {
      webgpuFailure = (e as Error).message;
      return false;
    }
  }
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
  /** WebGPU only: kernels it lacks, run on the cpu backend. */
  fallbackKernels?: string[];
}

/** Median ms of a small convolution (MobileNet-like), after a warm-up, on the backend in use. */
async function probeMs(): Promise<number> {
  const x = tf.randomUniform([1, 56, 56, 64]) as tf.Tensor4D;
  const w = tf.randomUniform([3, 3, 64, 64], -0.1, 0.1) as tf.Tensor4D;
  const times: number[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const y = tf.tidy(() => tf.relu(tf.conv2d(tf.relu(tf.conv2d(x, w, 1, 'same')), w, 1, 'same')));
      await y.data();
      y.dispose();
      if (i >= 2) times.push(performance.now() - t0);
    }
  } finally {
    x.dispose();
    w.dispose();
  }
  return times.sort((a, b) => a - b)[times.length >> 1];
}

export interface AutoInputs {
  webglRenderer: string | null;
  webgpu: WebgpuAdapterInfo | null;
}

/**
 * What "auto" tries, in order. WebGPU comes first only on a hardware adapter whose probe beat
 * the backend auto would use without it (`probe` runs only in that case).
 */
export async function autoOrder(inputs: AutoInputs, probe: (a: BackendName, b: BackendName) => Promise<{ a: number; b: number } | null>): Promise<{ order: BackendName[]; note?: string }> {
  const glHardware = inputs.webglRenderer !== null && !isSoftwareRenderer(inputs.webglRenderer);
  const base: BackendName[] = glHardware ? ['webgl', 'wasm', 'cpu'] : ['wasm', 'cpu'];
  let note: string | undefined;
  if (!glHardware) note = inputs.webglRenderer ? `WebGL is software-rendered (${inputs.webglRenderer}); using WebAssembly instead.` : 'WebGL is not available; using WebAssembly instead.';
  if (!inputs.webgpu || isSoftwareAdapter(inputs.webgpu)) return { order: base, note };
  const r = await probe('webgpu', base[0]);
  if (r && r.a < r.b) return { order: ['webgpu', ...base], note: `WebGPU was faster than ${base[0]} in a short probe (${r.a.toFixed(1)} vs ${r.b.toFixed(1)} ms).` };
  return { order: base, note };
}

async function probePair(a: BackendName, b: BackendName): Promise<{ a: number; b: number } | null> {
  const times: number[] = [];
  for (const name of [a, b]) {
    if (!(await trySetBackend(name))) return null;
    times.push(await probeMs());
  }
  return { a: times[0], b: times[1] };
}

/** Which wasm build to use: the best the browser supports, or a simpler one (comparisons, debugging). */
export type WasmBuild = 'auto' | 'simd' | 'plain';

export async function selectBackend(choice: BackendChoice, wasmBuild: WasmBuild = 'auto'): Promise<BackendState> {
  if (wasmBuild !== 'auto') {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (wasmBuild === 'plain') tf.env().set('WASM_HAS_SIMD_SUPPORT', false);
  }
  const glRenderer = webglRenderer();
  let order: BackendName[];
  let note: string | undefined;
  if (choice === 'auto') {
    ({ order, note } = await autoOrder({ webglRenderer: glRenderer, webgpu: await webgpuAdapterInfo() }, probePair));
  } else {
    order = [choice, ...(['wasm', 'cpu'] as BackendName[]).filter((b) => b !== choice)];
  }
  for (const name of order) {
    if (await trySetBackend(name)) {
      if (choice !== 'auto' && name !== choice) note = `The ${choice} backend could not start${choice === 'webgpu' && webgpuFailure ? ` (${webgpuFailure})` : ''}; using ${name}.`;
      const webglFloat32 = name === 'webgl' ? tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') : undefined;
      if (webglFloat32 === false) note = [note, 'This GPU renders only float16 textures: maps are less exact than on wasm.'].filter(Boolean).join(' ');
      const gpu = name === 'webgpu' ? webgpuSetup : null;
      if (gpu?.note) note = [note, gpu.note].filter(Boolean).join(' ');
      const renderer = gpu ? gpu.renderer : glRenderer;
      return { backend: name, renderer, note, webglFloat32, wasmThreads: name === 'wasm' ? getThreadsCount() : undefined, fallbackKernels: gpu?.fallbackKernels };
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
