/**
 * The engine worker's side of the Score-CAM helper worker: starts it, keeps it holding the
 * current model, and turns "score these channels" into a promise (RegionContext.remoteScores).
 * Any failure of the helper rejects, and Score-CAM then scores those channels itself.
 */
import type { RegionVariant } from '../engine/methods/region';
import type { HelperReply, HelperRequest, HelperThumb, PortableModelSource } from './helperEngineProtocol';

export interface HelperModelSource extends Omit<PortableModelSource, 'files'> {
  files: { name: string; arrayBuffer(): Promise<ArrayBuffer> }[];
}

export class HelperEngine {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: never): void; reject(e: Error): void }>();
  private modelVersion = 0;
  private broken: string | null = null;

  private constructor(wasmBuild: 'auto' | 'simd' | 'plain') {
    this.worker = new Worker(new URL('./helperEngineWorker.ts', import.meta.url), { type: 'module', name: 'fusion-cam score-cam helper' });
    this.worker.onmessage = (e: MessageEvent<HelperReply>) => this.onReply(e.data);
    this.worker.onerror = (e) => this.fail(`the Score-CAM helper worker failed: ${e.message}`);
    this.send({ type: 'init', wasmBuild });
  }

  /** A helper when a second core exists and workers can start workers; null otherwise. */
  static start(wasmBuild: 'auto' | 'simd' | 'plain'): HelperEngine | null {
    if (typeof Worker === 'undefined' || (navigator.hardwareConcurrency ?? 1) < 2) return null;
    try {
      return new HelperEngine(wasmBuild);
    } catch {
      return null;
    }
  }

  get usable(): boolean {
    return this.broken === null && this.modelVersion > 0;
  }

  /** Copies the model's files to the helper, which builds its own copy of the model. */
  async setModel(src: HelperModelSource): Promise<void> {
    const version = ++this.modelVersion;
    const files = await Promise.all(src.files.map(async (f) => ({ name: f.name, data: (await f.arrayBuffer()).slice(0) })));
    if (version !== this.modelVersion) return;
    const portable: PortableModelSource = { modelId: src.modelId, source: src.source, kind: src.kind, name: src.name, registry: src.registry, preprocessing: src.preprocessing, chosen: src.chosen, files };
    this.send({ type: 'model', version, src: portable }, files.map((f) => f.data));
  }

  /** RegionContext.remoteScores for one Score-CAM run on the current model. */
  scorer(run: { key: string; input: Float32Array; layer: string; classIndex: number; variant: RegionVariant; batchSize: number }): (channels: number[]) => Promise<Float32Array> {
    const version = this.modelVersion;
    return (channels) => this.request<Float32Array>((id) => ({ type: 'scores', id, version, key: run.key, input: run.input, layer: run.layer, classIndex: run.classIndex, variant: run.variant, channels, batchSize: run.batchSize }));
  }

  /** The layer-picker thumbnails of these layers, computed on the helper (rejects if it cannot). */
  thumbnails(input: Float32Array, layers: string[], classIndex: number, size: number): Promise<HelperThumb[]> {
    return this.request<HelperThumb[]>((id) => ({ type: 'thumbs', id, version: this.modelVersion, input, layers, classIndex, size }));
  }

  /** Fusion-CAM steps 1–4 for these θ on the helper's copy of the session (see seedFusionStages). */
  fusionStages(run: Omit<Extract<HelperRequest, { type: 'fusionStages' }>, 'type' | 'id' | 'version'>): Promise<{ theta: number; probabilities: number[] }[]> {
    return this.request((id) => ({ type: 'fusionStages', id, version: this.modelVersion, ...run }));
  }

  private request<T>(make: (id: number) => HelperRequest): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.broken) {
        reject(new Error(this.broken));
        return;
      }
      const id = this.nextId++;
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject });
      this.send(make(id));
    });
  }

  terminate(): void {
    this.fail('the Score-CAM helper was stopped');
    this.worker.terminate();
  }

  private send(req: HelperRequest, transfer: Transferable[] = []): void {
    this.worker.postMessage(req, transfer);
  }

  private onReply(msg: HelperReply): void {
    if (msg.type === 'scores' || msg.type === 'thumbs' || msg.type === 'fusionStages') {
      this.pending.get(msg.id)?.resolve((msg.type === 'scores' ? msg.values : msg.type === 'thumbs' ? msg.thumbs : msg.answers) as never);
      this.pending.delete(msg.id);
    } else if (msg.type === 'error') {
      if (msg.id === undefined) return; // a model it could not build: its requests fail one by one
      this.pending.get(msg.id)?.reject(new Error(msg.message));
      this.pending.delete(msg.id);
    }
  }

  private fail(message: string): void {
    this.broken = message;
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }
}
