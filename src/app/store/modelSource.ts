/** Where the model came from (registry, offline cache, the user's files or URL), a user-model load in progress, and the layer picker's thumbnails. */
import type { StateCreator } from 'zustand';
import type { ModelDetails } from '../../worker/modelProtocol';
import type { AppState } from './index';

export interface LayerThumb {
  /** Grad-CAM in [0, 1], size[0]×size[1]; empty when `error` is set. */
  map: Float32Array;
  size: [number, number];
  allZero: boolean;
  error?: string;
}

export interface ModelSourceState {
  details: ModelDetails | null;
  /** A model from the user's files or URL being loaded; the current model stays in use meanwhile. */
  userLoad: { what: string; loaded: number; total: number } | null;
  /** Why the last user model could not be loaded (the previous model is still in use). */
  userError: string | null;
  /** Thumbnails for (image, model, preprocessing, class) `key`, by layer name. */
  thumbs: { key: string | null; job: number; count: number; byLayer: Record<string, LayerThumb> };
}

export interface ModelSourceSlice {
  modelSource: ModelSourceState;
  setModelSource(patch: Partial<ModelSourceState>): void;
}

export const createModelSourceSlice: StateCreator<AppState, [], [], ModelSourceSlice> = (set) => ({
  modelSource: { details: null, userLoad: null, userError: null, thumbs: { key: null, job: 0, count: 0, byLayer: {} } },
  setModelSource: (patch) => set((s) => ({ modelSource: { ...s.modelSource, ...patch } })),
});
