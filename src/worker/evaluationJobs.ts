/**
 * Worker side of the faithfulness metrics: scores the maps on screen for the current image, and
 * runs the authors' protocol (docs/method.md §5) over a set of images, as `fusion-cam evaluate` does.
 * Every evaluator and batch session is disposed when its request ends (done, failed or
 * cancelled), so nothing outlives a request.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExplainableModel } from '../engine/model/explainable';
import { ExplanationSession } from '../engine/session';
import { toModelInput } from '../engine/image';
import { FaithfulnessEvaluator } from '../engine/metrics/faithfulness';
import { metricsRow } from '../engine/metrics/summary';
import { isMethodId } from '../engine/methods/registry';
import { computeMap } from '../engine/computeMap';
import { isAbortError } from '../engine/errors';
import { decodeImage } from './decodeImage';
import { EVALUATION_CONTROL, type BatchRow, type EvaluationKind, type EvaluationReply, type EvaluationRequest } from './evaluationProtocol';

export interface EvaluationHost {
  /** The live session of image generation `gen` (throws when it is gone). */
  session(gen: number): ExplanationSession;
  model(): { cam: ExplainableModel; modelId: string };
  post(msg: EvaluationReply, transfer?: Transferable[]): void;
}

let control: Int32Array | null = null;
/** Fallback without a SharedArrayBuffer: read when queued messages arrive. */
const localCancelBelow: Record<EvaluationKind, number> = { metrics: 0, batch: 0 };

/** Bookkeeping that must not wait behind running work (called on message arrival). */
export function noteEvaluationMessage(req: { type: string }): void {
  if (req.type !== 'evaluationCancel') return;
  const { kind, job } = req as Extract<EvaluationRequest, { type: 'evaluationCancel' }>;
  localCancelBelow[kind] = Math.max(localCancelBelow[kind], job + 1);
}

function cancelled(kind: EvaluationKind, job: number): boolean {
  return job < Math.max(localCancelBelow[kind], control ? Atomics.load(control, EVALUATION_CONTROL[kind]) : 0);
}

/** An AbortController that fires when the job is cancelled, checked at each progress report. */
function jobAbort(kind: EvaluationKind, job: number): { signal: AbortSignal; check(): void } {
  const ac = new AbortController();
  return {
    signal: ac.signal,
    check: () => {
      if (!ac.signal.aborted && cancelled(kind, job)) ac.abort();
    },
  };
}

export async function handleEvaluation(req: EvaluationRequest, host: EvaluationHost): Promise<void> {
  switch (req.type) {
    case 'evaluationInit':
      control = req.control ? new Int32Array(req.control) : null;
      return;
    case 'evaluationCancel':
      return;
    case 'metrics':
      return scorePanels(req, host);
    case 'batchEval':
      return runBatch(req, host);
  }
}

async function scorePanels(req: Extract<EvaluationRequest, { type: 'metrics' }>, host: EvaluationHost): Promise<void> {
  const { gen, job } = req;
  const remaining = req.items.map((i) => i.panel);
  if (cancelled('metrics', job)) {
    host.post({ type: 'metricsCancelled', gen, job, panels: remaining });
    return;
  }
  let ev: FaithfulnessEvaluator | undefined;
  const abort = jobAbort('metrics', job);
  try {
    const s = host.session(gen);
    const { cam } = host.model();
    s.checkClass(req.classIndex);
    ev = FaithfulnessEvaluator.create((x) => cam.logits(x), s.x, req.classIndex, { batchSize: req.batchSize });
    for (const item of req.items) {
      const t0 = performance.now();
      const r = await ev.evaluate(item.map, {
        signal: abort.signal,
        onProgress: (p) => {
          abort.check();
          host.post({ type: 'metricsProgress', gen, job, panel: item.panel, done: p.done, total: p.total });
        },
      });
      const deletion = Float32Array.from(r.deletion.scores);
      const insertion = Float32Array.from(r.insertion.scores);
      host.post(
        {
          type: 'metricsResult',
          gen,
          job,
          panel: item.panel,
          metrics: { original: r.original, masked: r.masked, drop: r.drop, increase: r.increase, deletionAuc: r.deletion.auc, insertionAuc: r.insertion.auc, deletion, insertion, ms: performance.now() - t0 },
        },
        [deletion.buffer, insertion.buffer],
      );
      remaining.shift();
      abort.check();
      if (abort.signal.aborted) throw new DOMException('cancelled', 'AbortError');
    }
  } catch (e) {
    if (isAbortError(e) || (e instanceof DOMException && e.name === 'AbortError')) host.post({ type: 'metricsCancelled', gen, job, panels: remaining });
    else host.post({ type: 'metricsError', gen, job, panels: remaining, message: (e instanceof Error ? e.message : String(e)).split('\n')[0] });
  } finally {
    ev?.dispose();
  }
}

async function runBatch(req: Extract<EvaluationRequest, { type: 'batchEval' }>, host: EvaluationHost): Promise<void> {
  const { job, files, settings } = req;
  const t0 = performance.now();
  const abort = jobAbort('batch', job);
  const done = (wasCancelled: boolean) => host.post({ type: 'batchDone', job, cancelled: wasCancelled, ms: performance.now() - t0, numTensors: tf.memory().numTensors });
  let cam: ExplainableModel;
  let modelId: string;
  try {
    ({ cam, modelId } = host.model());
    if (settings.methods.length === 0) throw new Error('Choose at least one method to evaluate');
    for (const m of settings.methods) {
      if (!isMethodId(m)) throw new Error(`Unknown method "${m}"`);
    }
  } catch (e) {
    host.post({ type: 'batchError', job, message: (e as Error).message });
    return;
  }
  const layer = settings.layer && cam.candidateLayers().some((l) => l.name === settings.layer) ? settings.layer : cam.defaultLayer();
  for (const [i, file] of files.entries()) {
    abort.check();
    if (abort.signal.aborted) return done(true);
    let session: ExplanationSession | undefined;
    let ev: FaithfulnessEvaluator | undefined;
    try {
      const decoded = await decodeImage(file.blob, 64);
      const { input } = toModelInput(decoded.rgba, cam.inputSize, cam.descriptor.preprocessing);
      session = await ExplanationSession.create(cam, input, layer);
      const c = session.predictedClass;
      const s = session;
      ev = FaithfulnessEvaluator.create((x) => cam.logits(x), s.x, c, { batchSize: settings.batchSize });
      const rows: BatchRow[] = [];
      for (const m of settings.methods) {
        const progress = (phase: 'map' | 'metrics') => (p: { done: number; total: number }) => {
          abort.check();
          host.post({ type: 'batchProgress', job, image: i, images: files.length, name: file.name, method: m, phase, done: p.done, total: p.total });
        };
        progress('map')({ done: 0, total: 0 });
        const tm = performance.now();
        const run = { batchSize: settings.batchSize, signal: abort.signal, onProgress: progress('map') };
        const { map } = await computeMap(s, m, { ...run, classIndex: c, variant: settings.variant, regionVariant: settings.scoreCamVariant, gradientMethod: settings.gradientMethod, regionMethod: settings.regionMethod, theta: settings.theta, tau: settings.tau, weights: { mode: 'auto' } });
        const mapMs = performance.now() - tm;
        const tq = performance.now();
        const r = await ev.evaluate(map, { signal: abort.signal, onProgress: progress('metrics') });
        rows.push(metricsRow({ image: file.name, method: m, model: modelId, layer: s.layer, classIndex: c, className: cam.label(c) }, r, { map: mapMs, metrics: performance.now() - tq }));
      }
      host.post({ type: 'batchRows', job, rows });
    } catch (e) {
      if (isAbortError(e) || abort.signal.aborted) return done(true); // the finally block frees the image's tensors
      // one bad image does not end the run; it is reported and skipped
      host.post({ type: 'batchSkipped', job, image: file.name, message: (e instanceof Error ? e.message : String(e)).split('\n')[0] });
    } finally {
      ev?.dispose();
      session?.dispose();
    }
  }
  done(false);
}
