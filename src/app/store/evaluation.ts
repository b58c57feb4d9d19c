/** Faithfulness metrics of the maps on screen, and the batch evaluation over dropped images. */
import type { StateCreator } from 'zustand';
import type { BatchRow, PanelMetrics } from '../../worker/evaluationProtocol';
import type { AppState } from './index';

export interface PanelMetricsState {
  job: number;
  gen: number;
  classIndex: number;
  /** The page's map object it was computed for: a different map on the panel means stale. */
  map: Float32Array;
  /** The panel's caption when requested (the curves legend). */
  title: string;
  status: 'queued' | 'running' | 'done' | 'cancelled' | 'error';
  done: number;
  total: number;
  result: PanelMetrics | null;
  error: string | null;
}

export interface BatchState {
  status: 'idle' | 'running' | 'done' | 'cancelled' | 'error';
  job: number;
  methods: string[];
  images: number;
  /** Index and name of the image in progress, and what it is doing. */
  image: number;
  name: string;
  method: string;
  phase: 'map' | 'metrics' | null;
  done: number;
  total: number;
  rows: BatchRow[];
  skipped: { image: string; message: string }[];
  error: string | null;
  ms: number | null;
}

export interface EvaluationState {
  panels: Record<string, PanelMetricsState>;
  batch: BatchState;
}

export const IDLE_BATCH: BatchState = { status: 'idle', job: 0, methods: [], images: 0, image: 0, name: '', method: '', phase: null, done: 0, total: 0, rows: [], skipped: [], error: null, ms: null };

export interface EvaluationSlice {
  evaluation: EvaluationState;
  setPanelMetrics(panel: string, patch: Partial<PanelMetricsState> | null): void;
  clearPanelMetrics(): void;
  setBatch(patch: Partial<BatchState>): void;
}

export const createEvaluationSlice: StateCreator<AppState, [], [], EvaluationSlice> = (set) => ({
  evaluation: { panels: {}, batch: IDLE_BATCH },
  setPanelMetrics: (panel, patch) =>
    set((s) => {
      const panels = { ...s.evaluation.panels };
      if (patch === null) delete panels[panel];
      else if (panels[panel] || isComplete(patch)) panels[panel] = { ...panels[panel], ...patch } as PanelMetricsState;
      return { evaluation: { ...s.evaluation, panels } };
    }),
  clearPanelMetrics: () => set((s) => ({ evaluation: { ...s.evaluation, panels: {} } })),
  setBatch: (patch) => set((s) => ({ evaluation: { ...s.evaluation, batch: { ...s.evaluation.batch, ...patch } } })),
});

function isComplete(p: Partial<PanelMetricsState>): p is PanelMetricsState {
  return p.job !== undefined && p.map !== undefined && p.status !== undefined;
}
