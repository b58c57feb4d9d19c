/**
 * The engine worker's "map of method M" requests: a feature map comes back in one reply; a
 * region map is a cancellable job with progress (and partial maps), its channels shared with
 * the helper engine when the method scores channel masks.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExplanationSession } from '../engine/session';
import { isAbortError } from '../engine/errors';
import { methodById, type GradientMethodId, type RegionMethodId } from '../engine/methods/registry';
import type { WorkerReply, WorkerRequest } from './protocol';
import type { HelperEngine } from './helperEngine';

export type MapRequest = Extract<WorkerRequest, { type: 'map' }>;

export interface MapJobHost {
  liveSession(gen: number): ExplanationSession;
  post(m: WorkerReply, transfer?: Transferable[]): void;
  forwardPasses(): number;
  cancelBelow(): number;
  latestGen(): number;
  helper(): HelperEngine | null;
  sessionInput(): Float32Array | null;
  sessionKey(): string;
  /** A region map of this session finished (Fusion-CAM may combine it). */
  regionDone(key: string): void;
}

/** Which panel family a map request fills: the page reports errors there. */
export function mapFamily(method: string): 'gradient' | 'region' {
  return methodById(method)?.family === 'region' ? 'region' : 'gradient';
}

export function regionKey(classIndex: number, variant: string, method: string): string {
  return `${classIndex}|${variant}|${method}`;
}

export async function runMap(req: MapRequest, host: MapJobHost): Promise<void> {
  if (mapFamily(req.method) === 'region') return runRegion(req, req.method as RegionMethodId, host);
  const s = host.liveSession(req.gen);
  const method = req.method as GradientMethodId;
  const r = await s.gradientMap(req.classIndex, method, req.variant);
  const map = Float32Array.from(r.map); // the session keeps its own copy cached
  host.post({ type: 'gradient', gen: req.gen, classIndex: req.classIndex, variant: req.variant, method, map, warnings: r.warnings, forwardPasses: host.forwardPasses() }, [map.buffer]);
}

async function runRegion(req: MapRequest, method: RegionMethodId, host: MapJobHost): Promise<void> {
  const s = host.liveSession(req.gen);
  const job = req.job ?? 0;
  const batchSize = req.batchSize ?? 16;
  if (job < host.cancelBelow()) {
    host.post({ type: 'regionCancelled', gen: req.gen, job, classIndex: req.classIndex });
    return;
  }
  const abort = new AbortController();
  const shouldStop = () => job < host.cancelBelow() || req.gen < host.latestGen();
  let lastPartial = 0;
  const t0 = performance.now();
  const helper = host.helper();
  const input = host.sessionInput();
  try {
    const r = await s.regionMap(req.classIndex, {
      method,
      variant: req.variant,
      batchSize,
      orderByGradient: true,
      // the second core scores channels from the back of the order (the helper scores Score-CAM's masks)
      remoteScores:
        method === 'scorecam' && helper?.usable && input
          ? helper.scorer({ key: host.sessionKey(), input, layer: s.layer, classIndex: req.classIndex, variant: req.variant, batchSize })
          : undefined,
      signal: abort.signal,
      onProgress: (p) => {
        if (shouldStop()) {
          abort.abort();
          return;
        }
        const now = performance.now();
        const wantPartial = p.partial && p.done < p.total && now - lastPartial > 400;
        if (!wantPartial) {
          host.post({ type: 'regionProgress', gen: req.gen, job, classIndex: req.classIndex, done: p.done, total: p.total, partial: null });
          return;
        }
        lastPartial = now;
        p.partial!().then(
          (partial) => host.post({ type: 'regionProgress', gen: req.gen, job, classIndex: req.classIndex, done: p.done, total: p.total, partial }, [partial.buffer]),
          () => undefined,
        );
      },
    });
    host.regionDone(regionKey(req.classIndex, req.variant, method));
    const map = Float32Array.from(r.map);
    host.post({ type: 'region', gen: req.gen, job, classIndex: req.classIndex, variant: req.variant, method, map, forwardPasses: host.forwardPasses(), ms: performance.now() - t0, numTensors: tf.memory().numTensors, helperPasses: typeof r.info?.remotePasses === 'number' ? r.info.remotePasses : 0 }, [map.buffer]);
  } catch (e) {
    if (isAbortError(e)) {
      host.post({ type: 'regionCancelled', gen: req.gen, job, classIndex: req.classIndex });
      return;
    }
    throw e;
  }
}
