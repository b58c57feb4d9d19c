/** Transient UI state. */
import type { StateCreator } from 'zustand';
import type { AppState } from './index';

export interface UiState {
  dragOver: boolean;
  /** A one-line notice (export done, backend switched…). */
  notice: string | null;
  /** What happened to the compute backend (a lost WebGL context and the recovery); stays until dismissed. */
  backendAlert: string | null;
  /** Linked inspection: the point under the pointer (or moved by the arrow keys) on every map, in [0, 1)². */
  probe: { x: number; y: number } | null;
}

export interface UiSlice {
  ui: UiState;
  setUi(patch: Partial<UiState>): void;
}

export const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set) => ({
  ui: { dragOver: false, notice: null, backendAlert: null, probe: null },
  setUi: (patch) => set((s) => ({ ui: { ...s.ui, ...patch } })),
});
