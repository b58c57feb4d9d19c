/**
 * Page side of the faithfulness metrics: asks the engine worker to score the maps on screen or a
 * set of images, and files its replies in the evaluation slice. Metrics belong to the map object
 * they were computed for; a new image cancels metrics still running for the old one.
 */
import { useAppStore } from './store';
import { csvLine, summarizeByMethod, type SummaryRow } from '../engine/metrics/summary';
import { send } from './engineBus';
import { targetClass } from './targetClass';
import { EVALUATION_CONTROL, type BatchRow, type BatchSettings, type EvaluationKind, type EvaluationReply } from '../worker/evaluationProtocol';

const BATCH_SIZE = 16;

let control: Int32Array | null = null;
let initialised = false;
let jobCounter = 0;
const get = () => useAppStore.getState();

function ensureInit(): void {
  if (initialised) return;
  initialised = true;
  if (typeof SharedArrayBuffer !== 'undefined' && globalThis.crossOriginIsolated) {
    control = new Int32Array(new SharedArrayBuffer(EVALUATION_CONTROL.length * 4));
  }
  send({ type: 'evaluationInit', control: control ? (control.buffer as SharedArrayBuffer) : null });
  // a new image: metrics of the old one are moot
  useAppStore.subscribe((s, prev) => {
    if (s.input.gen !== prev.input.gen) {
      cancel('metrics');
      get().clearPanelMetrics();
    }
  });
}

function cancel(kind: EvaluationKind): void {
  if (control) Atomics.store(control, EVALUATION_CONTROL[kind], jobCounter + 1);
  send({ type: 'evaluationCancel', kind, job: jobCounter });
}

export interface ScorableMap {
  panel: string;
  title: string;
  map: Float32Array;
}

/** Scores the given maps (Average Drop, Increase, Deletion and Insertion AUC) for the current class. */
export function computeMetrics(items: ScorableMap[]): void {
  const c = targetClass();
  const { input } = get();
  if (c === null || items.length === 0) return;
  ensureInit();
  const job = ++jobCounter;
  for (const it of items) get().setPanelMetrics(it.panel, { job, gen: input.gen, classIndex: c, map: it.map, title: it.title, status: 'queued', done: 0, total: 0, result: null, error: null });
  // copies: the page keeps its maps (the panels draw them)
  const copies = items.map((it) => ({ panel: it.panel, map: Float32Array.from(it.map) }));
  send({ type: 'metrics', gen: input.gen, job, classIndex: c, items: copies, batchSize: BATCH_SIZE }, copies.map((c) => c.map.buffer));
}

export function cancelMetrics(): void {
  ensureInit();
  cancel('metrics');
  for (const [panel, p] of Object.entries(get().evaluation.panels)) {
    if (p.status === 'running' || p.status === 'queued') get().setPanelMetrics(panel, { status: 'cancelled' });
  }
}

/** The engine restarted (lost WebGL context): work it had in hand will never answer. */
export function onEngineRestart(message: string): void {
  for (const [panel, p] of Object.entries(get().evaluation.panels)) {
    if (p.status === 'running' || p.status === 'queued') get().setPanelMetrics(panel, { status: 'error', error: message });
  }
  if (get().evaluation.batch.status === 'running') get().setBatch({ status: 'error', error: message, phase: null });
}

export function startBatch(files: File[], methods: string[]): void {
  const { settings, results, model } = get();
  if (files.length === 0 || methods.length === 0) return;
  ensureInit();
  const job = ++jobCounter;
  const batchSettings: BatchSettings = {
    methods,
    variant: settings.variant,
    scoreCamVariant: settings.variant,
    gradientMethod: settings.gradientMethod,
    regionMethod: settings.regionMethod,
    theta: settings.theta,
    tau: settings.tau,
    layer: results.layer ?? settings.layer ?? undefined,
    batchSize: model.backend === 'wasm' || model.backend === null ? BATCH_SIZE : 8,
  };
  get().setBatch({ status: 'running', job, methods, images: files.length, image: 0, name: files[0].name, method: methods[0], phase: null, done: 0, total: 0, rows: [], skipped: [], error: null, ms: null });
  send({ type: 'batchEval', job, files: files.map((f) => ({ name: f.name, blob: f })), settings: batchSettings });
}

export function cancelBatch(): void {
  ensureInit();
  cancel('batch');
  if (get().evaluation.batch.status === 'running') get().setBatch({ status: 'cancelled', phase: null });
}

export function onEvaluationReply(msg: EvaluationReply): void {
  const s = get();
  const panels = s.evaluation.panels;
  const batch = s.evaluation.batch;
  switch (msg.type) {
    case 'metricsProgress': {
      const p = panels[msg.panel];
      if (!p || p.job !== msg.job || (p.status !== 'queued' && p.status !== 'running')) return;
      s.setPanelMetrics(msg.panel, { status: 'running', done: msg.done, total: msg.total });
      return;
    }
    case 'metricsResult': {
      const p = panels[msg.panel];
      if (!p || p.job !== msg.job || p.status === 'cancelled') return;
      s.setPanelMetrics(msg.panel, { status: 'done', result: msg.metrics, done: p.total, error: null });
      return;
    }
    case 'metricsCancelled':
    case 'metricsError':
      for (const panel of msg.panels) {
        const p = panels[panel];
        if (!p || p.job !== msg.job || p.status === 'done') continue;
        s.setPanelMetrics(panel, msg.type === 'metricsError' ? { status: 'error', error: msg.message } : { status: 'cancelled' });
      }
      return;
    case 'batchProgress':
      if (batch.job !== msg.job || batch.status !== 'running') return;
      s.setBatch({ image: msg.image, images: msg.images, name: msg.name, method: msg.method, phase: msg.phase, done: msg.done, total: msg.total });
      return;
    case 'batchRows':
      if (batch.job !== msg.job) return;
      s.setBatch({ rows: [...batch.rows, ...msg.rows] });
      return;
    case 'batchSkipped':
      if (batch.job !== msg.job) return;
      s.setBatch({ skipped: [...batch.skipped, { image: msg.image, message: msg.message }] });
      return;
    case 'batchDone':
      if (batch.job !== msg.job) return;
      s.setBatch({ status: msg.cancelled ? 'cancelled' : 'done', phase: null, ms: msg.ms });
      return;
    case 'batchError':
      if (batch.job !== msg.job) return;
      s.setBatch({ status: 'error', error: msg.message, phase: null });
      return;
  }
}

/** Per-method means, as the CLI's summary (the authors' table layout). */
export function summarizeRows(rows: BatchRow[], methods: string[]): SummaryRow[] {
  return summarizeByMethod(rows, methods);
}

const CSV_COLUMNS: (keyof BatchRow)[] = ['image', 'method', 'model', 'layer', 'classIndex', 'className', 'probability', 'maskedProbability', 'averageDrop', 'increase', 'deletionAuc', 'insertionAuc', 'mapMs', 'metricsMs'];

/** One row per image × method, the CLI's column names. */
export function rowsToCsv(rows: BatchRow[]): string {
  return [CSV_COLUMNS.join(','), ...rows.map((r) => csvLine(r, CSV_COLUMNS))].join('\n') + '\n';
}
