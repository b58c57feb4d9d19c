/** What the engine has computed for the current image. */
import type { StateCreator } from 'zustand';
import type { Prediction } from '../../engine/session';
import type { FusionVariant } from '../../engine/maps';
import type { StageData } from '../../worker/protocol';
import type { GradientMethodId } from '../../engine/methods/registry';
import type { RegionMethodId } from '../../engine/methods/registry';
import type { AppState } from './index';

export interface GradientResult {
  classIndex: number;
  variant: FusionVariant;
  method?: GradientMethodId;
  map: Float32Array;
  warnings: string[];
}

export interface RegionState {
  job: number;
  classIndex: number;
  variant: FusionVariant;
  method?: RegionMethodId;
  status: 'running' | 'done' | 'cancelled' | 'error';
  done: number;
  total: number;
  /** The final map, or the latest partial map while running. */
  map: Float32Array | null;
  ms?: number;
  /** performance.now() at the start, at the latest progress, and the first progress (for the time left). */
  startedAt?: number;
  progressAt?: number;
  firstProgress?: { done: number; at: number };
  /** Of the passes, how many the Score-CAM helper worker ran (the second core). */
  helperPasses?: number;
}

export interface ResultsState {
  layer: string | null;
  predictions: Prediction[];
  sessionError: string | null;
  gradient: GradientResult | null;
  gradientError: string | null;
  region: RegionState | null;
  regionError: string | null;
  stage: StageData | null;
  stageError: string | null;
  forwardPasses: number;
  /** θ values (of 100) whose Fusion-CAM steps 1–4 are ready: a θ move to one of them runs no forward pass. */
  thetasReady: number;
  /** tf.memory().numTensors in the worker after the last run (leak checks). */
  numTensors: number | null;
}

export const EMPTY_RESULTS: ResultsState = {
  layer: null,
  predictions: [],
  sessionError: null,
  gradient: null,
  gradientError: null,
  region: null,
  regionError: null,
  stage: null,
  stageError: null,
  forwardPasses: 0,
  thetasReady: 0,
  numTensors: null,
};

export interface ResultsSlice {
  results: ResultsState;
  setResults(patch: Partial<ResultsState>): void;
}

export const createResultsSlice: StateCreator<AppState, [], [], ResultsSlice> = (set) => ({
  results: EMPTY_RESULTS,
  setResults: (patch) => set((s) => ({ results: { ...s.results, ...patch } })),
});
