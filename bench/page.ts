/**
 * In-page engine benchmark (no app UI): bench/run.ts opens /bench/index.html in headless
 * Chromium and calls window.__bench.run(...) once per backend and model. The engine runs on
 * this page's main thread, so long tasks here say nothing about the app (the app runs the
 * engine in a worker; run.ts measures that through the UI).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { CamModel, loadLayersModelFrom, PREPROCESSING, registerWasmFallbackKernels } from '../src/engine/index';
import { benchEngine, stats, type EngineBenchOptions, type EngineBenchResult, type Stats } from './measure';
import { setupWebgpuBackend, webgpuAdapterInfo, type WebgpuAdapterInfo } from '../src/engine/webgpuBackend';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});

export interface PageRunRequest {
  backend: 'wasm' | 'webgl' | 'cpu' | 'webgpu';
  modelId: string;
  /** H×W×3 model-input image (decoded and preprocessed by run.ts, as the CLI does) */
  input: number[];
  loadRepeats: number;
  options: Omit<EngineBenchOptions, 'log' | 'cpuTime'>;
}

export interface PageRunResult {
  backend: string;
  wasmThreads?: number;
  webglRenderer?: string;
  crossOriginIsolated: boolean;
  load: Stats;
  engine: EngineBenchResult;
}

async function fetchBuffer(url: string): Promise<ArrayBuffer> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

async function loadModel(modelId: string, labels: string[]): Promise<CamModel> {
  const base = `/models/${modelId}/`;
  const json = await (await fetch(`${base}model.json`)).json();
  const model = await loadLayersModelFrom(json, (p) => fetchBuffer(base + p), `${base}model.json`);
  return new CamModel(model, { id: modelId, name: modelId, url: base, preprocessing: PREPROCESSING.mobilenet, labels });
}

function webglRenderer(): string | undefined {
  const gl = document.createElement('canvas').getContext('webgl2') as WebGL2RenderingContext | null;
  if (!gl) return undefined;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

const status = document.getElementById('status')!;

async function run(req: PageRunRequest): Promise<PageRunResult> {
  if (req.backend === 'webgpu') await setupWebgpuBackend();
  else {
    const ok = await tf.setBackend(req.backend);
    if (!ok) throw new Error(`backend ${req.backend} did not start`);
  }
  await tf.ready();
  if (req.backend === 'wasm') registerWasmFallbackKernels();
  const labels = (await (await fetch('/labels/imagenet_classes.json')).json()) as string[];
  const loadSamples: number[] = [];
  let cm: CamModel | undefined;
  for (let i = 0; i < req.loadRepeats; i++) {
    cm?.dispose();
    const t0 = performance.now();
    cm = await loadModel(req.modelId, labels);
    loadSamples.push(performance.now() - t0);
  }
  const log = (m: string) => {
    status.textContent = m;
    console.log(`[bench ${req.backend} ${req.modelId}] ${m}`);
  };
  const engine = await benchEngine(cm!, Float32Array.from(req.input), { ...req.options, log });
  cm!.dispose();
  return {
    backend: tf.getBackend(),
    wasmThreads: req.backend === 'wasm' ? getThreadsCount() : undefined,
    webglRenderer: req.backend === 'webgl' ? webglRenderer() : undefined,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    load: stats(loadSamples),
    engine,
  };
}

/** What the GPU bench (bench/gpu.ts) checks first: the WebGL renderer and the WebGPU adapter. */
async function probe(): Promise<{ webglRenderer: string | null; webgpu: WebgpuAdapterInfo | null; hasNavigatorGpu: boolean }> {
  return { webglRenderer: webglRenderer() ?? null, webgpu: await webgpuAdapterInfo(), hasNavigatorGpu: 'gpu' in navigator };
}

(window as unknown as { __bench: unknown }).__bench = { run, probe, ready: true };
status.textContent = 'ready';
