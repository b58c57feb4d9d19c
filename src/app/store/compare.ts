/** Compare: a pinned explanation shown next to the current one. */
import type { StateCreator } from 'zustand';
import type { FusionVariant } from '../../engine/maps';
import type { GradientMethodId } from '../../engine/methods/registry';
import type { RegionMethodId } from '../../engine/methods/registry';
import type { WeightsMode } from './settings';
import type { AppState } from './index';

/** The settings that make an explanation (what `?pin=` carries). */
export interface PinSpec {
  modelId: string;
  layer: string;
  classIndex: number;
  variant: FusionVariant;
  gradientMethod: GradientMethodId;
  regionMethod: RegionMethodId;
  theta: number;
  tau: number;
  weightsMode: WeightsMode;
  gamma: number;
}

export interface PinnedExplanation {
  spec: PinSpec;
  /** What the column says: model · layer · class · variant. */
  modelName: string;
  className: string;
  imageName: string | null;
  /** The pinned image's display copy; the maps are stored at its size (so another model's input size still compares). */
  photo: ImageData;
  maps: { gradient: Float32Array; region: Float32Array; fusion: Float32Array };
}

export interface CompareState {
  pinned: PinnedExplanation | null;
  sharedScale: boolean;
  difference: boolean;
  /** A pin from the URL, recomputed once an image's explanation is complete. */
  pending: PinSpec | null;
  /** A pin is being recomputed (the main panels show its settings meanwhile). */
  recomputing: boolean;
}

export interface CompareSlice {
  compare: CompareState;
  setCompare(patch: Partial<CompareState>): void;
}

export const createCompareSlice =
  (pending: PinSpec | null): StateCreator<AppState, [], [], CompareSlice> =>
  (set) => ({
    compare: { pinned: null, sharedScale: false, difference: false, pending, recomputing: false },
    setCompare: (patch) => set((s) => ({ compare: { ...s.compare, ...patch } })),
  });
