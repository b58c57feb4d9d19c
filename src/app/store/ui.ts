/** Transient UI state. */
import type { StateCreator } from 'zustand';
import type { AppState } from './index';

export interface UiState {
  dragOver: boolean;
  /** A one-line notice (export done, backend switched…). */
  notice: string | null;
}

export interface UiSlice {
  ui: UiState;
  setUi(patch: Partial<UiState>): void;
}

export const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set) => ({
  ui: { dragOver: false, notice: null },
  setUi: (patch) => set((s) => ({ ui: { ...s.ui, ...patch } })),
});
