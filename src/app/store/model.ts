/** The loaded model and the backend it runs on. */
import type { StateCreator } from 'zustand';
import type { BackendName, LoadedModelInfo } from '../../worker/protocol';
import type { AppState } from './index';

export interface ModelState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  loadingId: string | null;
  loaded: number;
  total: number;
  error: string | null;
  info: LoadedModelInfo | null;
  backend: BackendName | null;
  renderer: string | null;
  backendNote: string | null;
  wasmThreads: number | null;
}

export interface ModelSlice {
  model: ModelState;
  setModel(patch: Partial<ModelState>): void;
}

export const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set) => ({
  model: { status: 'idle', loadingId: null, loaded: 0, total: 0, error: null, info: null, backend: null, renderer: null, backendNote: null, wasmThreads: null },
  setModel: (patch) => set((s) => ({ model: { ...s.model, ...patch } })),
});
