/**
 * Messages of the faithfulness metrics (docs/method.md §5) between the page and the engine worker:
 * metrics for the maps on screen, and batch evaluation over a set of dropped images. Cancelling
 * uses a shared word (like Score-CAM): the metric loops never yield to the worker's event loop
 * on wasm/cpu, so a "cancel" message would be read only after the run.
 */
import type { MetricsRow } from '../engine/metrics/summary';
import type { FusionVariant } from '../engine/maps';
import type { GradientMethodId } from '../engine/methods/registry';
import type { RegionVariant } from '../engine/methods/region';
import type { RegionMethodId } from '../engine/methods/registry';

/** The evaluation control words: per kind of job, jobs with an id below the word's value are cancelled. */
export const EVALUATION_CONTROL = { metrics: 0, batch: 1, length: 2 } as const;
export type EvaluationKind = 'metrics' | 'batch';

export interface MetricsItem {
  /** Which panel the map belongs to (echoed back). */
  panel: string;
  map: Float32Array;
}

export interface BatchSettings {
  methods: string[];
  variant: FusionVariant;
  scoreCamVariant: RegionVariant;
  gradientMethod: GradientMethodId;
  regionMethod: RegionMethodId;
  theta: number;
  tau: number;
  layer?: string;
  batchSize: number;
}

/** One image × method, as the CLI's `evaluate` rows (the columns the app shows and exports; built by metricsRow). */
export type BatchRow = MetricsRow;

export type EvaluationRequest =
  | { type: 'evaluationInit'; control: SharedArrayBuffer | null }
  | { type: 'metrics'; gen: number; job: number; classIndex: number; items: MetricsItem[]; batchSize: number }
  | { type: 'batchEval'; job: number; files: { name: string; blob: Blob }[]; settings: BatchSettings }
  | { type: 'evaluationCancel'; kind: EvaluationKind; job: number };

export interface PanelMetrics {
  /** Y = p_c(x), O = p_c(x ⊙ L) */
  original: number;
  masked: number;
  drop: number;
  increase: 0 | 1;
  deletionAuc: number;
  insertionAuc: number;
  deletion: Float32Array;
  insertion: Float32Array;
  ms: number;
}

export type EvaluationReply =
  | { type: 'metricsProgress'; gen: number; job: number; panel: string; done: number; total: number }
  | { type: 'metricsResult'; gen: number; job: number; panel: string; metrics: PanelMetrics }
  | { type: 'metricsCancelled'; gen: number; job: number; panels: string[] }
  | { type: 'metricsError'; gen: number; job: number; panels: string[]; message: string }
  | { type: 'batchProgress'; job: number; image: number; images: number; name: string; method: string; phase: 'map' | 'metrics'; done: number; total: number }
  | { type: 'batchRows'; job: number; rows: BatchRow[] }
  | { type: 'batchSkipped'; job: number; image: string; message: string }
  | { type: 'batchDone'; job: number; cancelled: boolean; ms: number; numTensors: number }
  | { type: 'batchError'; job: number; message: string };

const REPLY_TYPES = new Set<string>(['metricsProgress', 'metricsResult', 'metricsCancelled', 'metricsError', 'batchProgress', 'batchRows', 'batchSkipped', 'batchDone', 'batchError']);

export function isEvaluationReply(msg: { type: string }): msg is EvaluationReply {
  return REPLY_TYPES.has(msg.type);
}
