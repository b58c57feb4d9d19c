/**
 * Recovery from a lost GPU backend: a lost WebGL context (driver reset, GPU process crash, a
 * forced WEBGL_lose_context) or a lost WebGPU device (`device.lost`). Every tensor on it is gone,
 * and work waiting on it would wait forever, so the engine worker's queue is restarted on a fresh
 * backend: the same GPU backend re-created, or wasm after a second loss within two minutes. The
 * model is rebuilt from its files and the page recomputes the maps when the model is back.
 */
import type { BackendState, WasmBuild } from './backend';
import { discardWebglBackend, isWebglContextLost, selectBackend, watchWebglContext } from './backend';
import { discardWebgpuBackend, isWebgpuDeviceLost, watchWebgpuDevice } from '../engine/webgpuBackend';
import type { WorkerReply } from './protocol';

/** A second loss this soon after the first means the GPU backend is not dependable here. */
const REPEATED_LOSS_MS = 120_000;

/** What the recovery needs from the engine worker. */
export interface GpuRecoveryHost {
  backendState(): BackendState | null;
  setBackendState(state: BackendState): void;
  wasmBuild(): WasmBuild;
  /** Frees the model and session bookkeeping (their GPU memory went with the context); never throws. */
  disposeModel(): void;
  /** Abandons the running task (it may wait forever on the lost backend) and runs `task` before the queued ones. */
  restartQueue(task: () => Promise<void>): void;
  /** The helper engine follows the backend (see engineWorker.ts's syncHelper). */
  syncHelper(): void;
  /** Rebuilds the loaded model, if any, on the new backend. */
  rebuildModel(): Promise<void>;
  modelId(): string;
  /** Posts straight to the page (recovery messages carry no computed numbers). */
  post(message: WorkerReply): void;
}

export class GpuRecovery {
  private recovering = false;
  private lastLossAt = -Infinity;
  private stopWatching: () => void = () => undefined;

  constructor(private readonly host: GpuRecoveryHost) {}

  /** The GPU backend in use lost its context (WebGL) or device (WebGPU): its tensors are gone. */
  get lost(): boolean {
    return isWebglContextLost() || isWebgpuDeviceLost();
  }

  /** True while a lost backend is being replaced, or when the one in use is lost now. */
  get lostOrRecovering(): boolean {
    return this.recovering || this.lost;
  }

  /** Starts watching the backend now in use (call after every backend change). */
  watch(): void {
    this.stopWatching();
    const onLost = () => this.onLost();
    const stops = [watchWebglContext(onLost), watchWebgpuDevice(onLost)];
    this.stopWatching = () => stops.forEach((stop) => stop());
  }

  unwatch(): void {
    this.stopWatching();
    this.stopWatching = () => undefined;
  }

  /** The backend's context or device is gone: say so, and restart the queue on a fresh backend. */
  onLost(): void {
    if (this.recovering) return;
    this.recovering = true;
    this.unwatch();
    const host = this.host;
    const repeated = performance.now() - this.lastLossAt < REPEATED_LOSS_MS;
    this.lastLossAt = performance.now();
    const gpuKind: 'webgl' | 'webgpu' = host.backendState()?.backend === 'webgpu' ? 'webgpu' : 'webgl';
    const what = gpuKind === 'webgpu' ? 'The WebGPU (GPU) device was lost' : 'The WebGL (GPU) context was lost';
    const label = gpuKind === 'webgpu' ? 'WebGPU' : 'WebGL';
    host.post({ type: 'backendLost', message: `${what}; ${repeated ? 'it was lost twice in a row, so the engine switches to WebAssembly' : `restarting ${label}`} and recomputing the maps…` });
    host.restartQueue(async () => {
      try {
        host.disposeModel();
        if (gpuKind === 'webgpu') discardWebgpuBackend();
        else discardWebglBackend();
        const next = await selectBackend(repeated ? 'wasm' : gpuKind, host.wasmBuild());
        const lossNote = gpuKind === 'webgpu' ? (repeated ? 'WebGPU lost its device twice; using WebAssembly.' : 'WebGPU was restarted after a device loss.') : repeated ? 'WebGL lost its context twice; using WebAssembly.' : 'WebGL was restarted after a context loss.';
        const state: BackendState = { ...next, note: [next.note, lossNote].filter(Boolean).join(' ') };
        host.setBackendState(state);
        this.watch();
        host.syncHelper();
        this.recovering = false;
        host.post({ type: 'backend', ...state });
        host.post({
          type: 'backendRecovered',
          backend: state.backend,
          message: state.backend === gpuKind ? `${what} and has been re-created; the maps were recomputed.` : `${what}; the engine now runs on ${state.backend === 'wasm' ? 'WebAssembly' : state.backend} and the maps were recomputed.`,
        });
        await host.rebuildModel();
      } catch (e) {
        this.recovering = false;
        host.post({ type: 'modelError', modelId: host.modelId(), message: `${what} and the engine could not restart: ${(e as Error).message}` });
      }
    });
  }
}
