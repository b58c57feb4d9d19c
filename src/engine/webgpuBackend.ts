/**
 * The WebGPU backend, set up as one plain function (`setupWebgpuBackend`) that the app's engine
 * worker and the library both call: no DOM, no bundler imports, only `navigator.gpu`.
 *
 * - The adapter is inspected first: a fallback adapter (`isFallbackAdapter`) or SwiftShader is
 *   software, CPU speed (docs/platform-notes.md note 5: 3.5–5 s per MobileNet-1.0 pass), and is reported as such.
 * - Kernels tfjs-webgpu 4.22 lacks (string, ragged, sparse ops, NonMaxSuppressionV4…) are
 *   registered on webgpu as calls into the cpu backend on copies of the data, and named in a note.
 * - `device.lost` is watched (`watchWebgpuDevice`), a loss can be forced (`destroyWebgpuDevice`,
 *   the diagnostics hook), and a lost backend is replaced (`discardWebgpuBackend`).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** What an adapter says about itself (GPUAdapterInfo, or requestAdapterInfo() in older browsers). */
export interface WebgpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

/** Minimal WebGPU shapes this file touches (the DOM lib of this project has no WebGPU types). */
interface GpuAdapterLike {
  info?: Partial<WebgpuAdapterInfo>;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<Partial<WebgpuAdapterInfo>>;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: unknown): Promise<GpuDeviceLike>;
}
interface GpuDeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

function gpu(): GpuLike | null {
  return ((globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu as GpuLike | undefined) ?? null;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render driver|warp/i;

/** True for a fallback adapter or one that names a software rasteriser. */
export function isSoftwareAdapter(info: WebgpuAdapterInfo): boolean {
  return info.isFallbackAdapter || SOFTWARE_ADAPTER.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

export function describeAdapter(info: WebgpuAdapterInfo): string {
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(Boolean);
  return `${parts.join(' · ') || 'unnamed adapter'}${info.isFallbackAdapter ? ' (fallback adapter)' : ''}`;
}

const heldAdapters: GpuAdapterLike[] = [];
/** The adapter of the device in use, and what it said about itself. */
let inUseAdapter: { adapter: GpuAdapterLike; info: WebgpuAdapterInfo } | null = null;

async function requestAdapter(): Promise<{ adapter: GpuAdapterLike; info: WebgpuAdapterInfo } | null> {
  const g = gpu();
  if (!g) return null;
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await g.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
  if (!adapter) return null;
  // held: a device whose adapter (and with it the GPU instance) is garbage-collected is lost in
  // Chromium 156 ("A valid external Instance reference no longer exists"), seen in the e2e
  heldAdapters.push(adapter);
  if (heldAdapters.length > 4) heldAdapters.shift();
  let raw: Partial<WebgpuAdapterInfo> = adapter.info ?? {};
  if (!adapter.info && adapter.requestAdapterInfo) raw = await adapter.requestAdapterInfo().catch(() => ({}));
  const info: WebgpuAdapterInfo = {
    vendor: String(raw.vendor ?? ''),
    architecture: String(raw.architecture ?? ''),
    device: String(raw.device ?? ''),
    description: String(raw.description ?? ''),
    isFallbackAdapter: Boolean(raw.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false),
  };
  return { adapter, info };
}

/** The adapter WebGPU would give, or null when the browser has no WebGPU (or no adapter). */
export async function webgpuAdapterInfo(): Promise<WebgpuAdapterInfo | null> {
  return (await requestAdapter())?.info ?? null;
}

/**
 * Registers the webgpu backend factory (again): the same device request tfjs-webgpu makes at
 * import, but ours, so a backend whose device was lost can be replaced by a fresh one.
 */
function registerWebgpuFactory(): void {
  tf.registerBackend(
    'webgpu',
    async () => {
      const got = await requestAdapter();
      if (!got) throw new Error('WebGPU has no adapter in this browser');
      const { adapter, info } = got;
      inUseAdapter = got;
      const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f));
      const l = adapter.limits;
      const device = await adapter.requestDevice({
        requiredFeatures,
        requiredLimits: {
          maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
          maxBufferSize: l.maxBufferSize,
          maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        },
      });
      void device.lost.then((info) => {
        // tfjs drops a backend whose init was superseded by a newer setBackend; its device is then
        // released ('destroyed') without being the one in use: that is no loss of the engine's device
        if (watchedDevice?.device !== device) {
          console.info(`WebGPU: a device not in use was released (${info?.reason ?? 'unknown'})`);
          return;
        }
        // said once, with the browser's reason ('destroyed' for the diagnostics hook)
        console.warn(`WebGPU device lost (${info?.reason ?? 'unknown'}): ${info?.message ?? ''}`);
        watchedDevice.lost = true;
        for (const f of lostListeners) f();
      });
      return new WebGPUBackend(device as unknown as ConstructorParameters<typeof WebGPUBackend>[0], info as unknown as ConstructorParameters<typeof WebGPUBackend>[1]);
    },
    // below webgl (2) and wasm: a bare tf.ready() never picks WebGPU by itself (docs/platform-notes.md note 8)
    1,
  );
}

let factoryRegistered = false;
let watchedDevice: { device: GpuDeviceLike; lost: boolean } | null = null;
const lostListeners = new Set<() => void>();

interface WebgpuBackendLike {
  readSync(dataId: object): ArrayLike<number> | string[] | Uint8Array[];
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: ArrayLike<number> | Uint8Array[]): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}
interface CpuBackendLike {
  write(values: unknown, shape: number[], dtype: tf.DataType): object;
  readSync(dataId: object): ArrayLike<number> | Uint8Array[];
  disposeData(dataId: object, force?: boolean): boolean;
}

let fallbacks: string[] | null = null;

/**
 * Every kernel the cpu backend has and webgpu lacks is registered on webgpu as the cpu kernel run
 * on copies of the data (exact, slower). Returns the names (once; later calls return the same).
 */
export function registerWebgpuFallbackKernels(): string[] {
  if (fallbacks) return fallbacks;
  const have = new Set(tf.getKernelsForBackend('webgpu').map((k) => k.kernelName));
  const cpu = tf.findBackend('cpu') as unknown as CpuBackendLike | null;
  if (!cpu) throw new Error('The cpu backend must be registered to patch the webgpu backend');
  const added: string[] = [];
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (have.has(k.kernelName)) continue;
    tf.registerKernel({
      kernelName: k.kernelName,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const gpuBackend = backend as unknown as WebgpuBackendLike;
        const temps: object[] = [];
        const cpuInputs: Record<string, tf.TensorInfo> = {};
        for (const [name, info] of Object.entries(inputs as Record<string, tf.TensorInfo>)) {
          const dataId = cpu.write(gpuBackend.readSync(info.dataId), info.shape, info.dtype);
          temps.push(dataId);
          cpuInputs[name] = { dataId, shape: info.shape, dtype: info.dtype };
        }
        try {
          const out = k.kernelFunc({ inputs: cpuInputs, attrs, backend: cpu as unknown as tf.KernelBackend });
          const outs = Array.isArray(out) ? out : [out];
          const results = outs.map((o) => {
            temps.push(o.dataId);
            return gpuBackend.makeTensorInfo(o.shape, o.dtype, cpu.readSync(o.dataId) as ArrayLike<number>);
          });
          return Array.isArray(out) ? results : results[0];
        } finally {
          for (const id of temps) cpu.disposeData(id, true);
        }
      },
    });
    added.push(k.kernelName);
  }
  fallbacks = added;
  return added;
}

export interface WebgpuSetup {
  adapter: WebgpuAdapterInfo;
  /** describeAdapter(adapter), for the 'backend' reply's renderer field. */
  renderer: string;
  software: boolean;
  /** Kernels that run on the cpu backend (registerWebgpuFallbackKernels). */
  fallbackKernels: string[];
  note?: string;
}

/**
 * Makes webgpu the tfjs backend. Throws a one-line Error when the browser has no WebGPU or no
 * adapter (callers fall back to wasm). Call `tf.setBackend` only through this for webgpu.
 */
export async function setupWebgpuBackend(): Promise<WebgpuSetup> {
  if (!gpu()) throw new Error('This browser has no WebGPU (navigator.gpu); Chromium needs --enable-unsafe-webgpu on Linux');
  if (!factoryRegistered || !tf.findBackendFactory('webgpu')) {
    // replaces the factory tfjs-webgpu registered at import, so recovery and ours are the same
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    registerWebgpuFactory();
    factoryRegistered = true;
  }
  const ok = await tf.setBackend('webgpu').catch(() => false);
  if (!ok || tf.getBackend() !== 'webgpu') throw new Error('WebGPU could not start (no adapter or no device)');
  await tf.ready();
  // the device of the backend tfjs adopted is the one watched (not one of a superseded init)
  const inUse = (tf.engine().registry as Record<string, { device?: GpuDeviceLike }>).webgpu?.device;
  if (inUse && watchedDevice?.device !== inUse) watchedDevice = { device: inUse, lost: false };
  // the adapter the device came from (no second requestAdapter once a device exists)
  const info = inUseAdapter?.info ?? null;
  const adapter: WebgpuAdapterInfo = info ?? { vendor: '', architecture: '', device: '', description: '', isFallbackAdapter: false };
  const software = isSoftwareAdapter(adapter);
  const fallbackKernels = registerWebgpuFallbackKernels();
  const notes: string[] = [];
  if (software) notes.push(`WebGPU runs on a software adapter (${describeAdapter(adapter)}): CPU speed, slower than WebAssembly.`);
  if (fallbackKernels.length > 0) notes.push(`WebGPU has no kernel for ${fallbackKernels.join(', ')}; ${fallbackKernels.length === 1 ? 'it runs' : 'those run'} on the CPU if a model needs them.`);
  return { adapter, renderer: describeAdapter(adapter), software, fallbackKernels, note: notes.join(' ') || undefined };
}

/** True when webgpu is the backend in use and its device was lost (destroyed, GPU reset, driver). */
export function isWebgpuDeviceLost(): boolean {
  return tf.getBackend() === 'webgpu' && watchedDevice?.lost === true;
}

/** Calls `onLost` when the current webgpu device is lost; returns a function that stops watching. */
export function watchWebgpuDevice(onLost: () => void): () => void {
  if (tf.getBackend() !== 'webgpu') return () => undefined;
  if (watchedDevice?.lost) {
    queueMicrotask(onLost);
    return () => undefined;
  }
  lostListeners.add(onLost);
  return () => lostListeners.delete(onLost);
}

/** Forces a device loss (`device.destroy()`, the diagnostics hook; what a GPU reset does). */
export function destroyWebgpuDevice(): boolean {
  if (tf.getBackend() !== 'webgpu' || !watchedDevice || watchedDevice.lost) return false;
  watchedDevice.device.destroy();
  return true;
}

/** Throws away a webgpu backend whose device was lost, so the next setup builds a fresh one. */
export function discardWebgpuBackend(): void {
  try {
    tf.removeBackend('webgpu');
  } catch {
    // freeing buffers of a destroyed device may fail; they went with it
  }
  watchedDevice = null;
  registerWebgpuFactory();
}
