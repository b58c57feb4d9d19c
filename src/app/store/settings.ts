/** Explanation and display settings: everything the URL query mirrors. */
import type { StateCreator } from 'zustand';
import type { FusionVariant } from '../../engine/maps';
import type { ColormapId } from '../colormaps';
import type { BackendChoice } from '../../worker/protocol';
import type { GradientMethodId } from '../../engine/methods/gradient';
import type { RegionMethodId } from '../../engine/methods/region';
import { DEFAULT_MODEL_ID } from '../../engine/model/registry';
import type { AppState } from './index';

export type ScaleMode = 'each' | 'shared';
export type WeightsMode = 'auto' | 'manual';

export interface Settings {
  theta: number;
  tau: number;
  variant: FusionVariant;
  weightsMode: WeightsMode;
  /** Manual gradient share γ ∈ [0, 1]. */
  gamma: number;
  colormap: ColormapId;
  opacity: number;
  scale: ScaleMode;
  /** Target class; null = the top-1 prediction. */
  classIndex: number | null;
  modelId: string;
  /** Target layer; null = the model's default layer. */
  layer: string | null;
  backend: BackendChoice;
  showIntermediate: boolean;
  /** The gradient and region branches of Fusion-CAM (spec: "gradient method, region method"). */
  gradientMethod: GradientMethodId;
  regionMethod: RegionMethodId;
}

export const DEFAULT_SETTINGS: Settings = {
  theta: 10,
  tau: 1,
  variant: 'reference',
  weightsMode: 'auto',
  gamma: 0.5,
  colormap: 'turbo',
  opacity: 0.5,
  scale: 'each',
  classIndex: null,
  modelId: DEFAULT_MODEL_ID,
  layer: null,
  backend: 'auto',
  showIntermediate: false,
  gradientMethod: 'gradcam',
  regionMethod: 'scorecam',
};

export interface SettingsSlice {
  settings: Settings;
  setSettings(patch: Partial<Settings>): void;
}

export const createSettingsSlice =
  (initial: Settings): StateCreator<AppState, [], [], SettingsSlice> =>
  (set) => ({
    settings: initial,
    setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  });
