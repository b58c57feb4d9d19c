/**
 * Values derived from the store on the page: Fusion-CAM step 5 (τ) runs here on the cached
 * combined and region maps, so moving τ never reaches the model; and the maps each panel shows.
 */
import { useMemo } from 'react';
import { similarityFusion, isConstant } from '../engine/maps';
import { useAppStore } from './store';
import type { StageData } from '../worker/protocol';

export type PanelId = 'gradient' | 'region' | 'fusioncam' | 'denoised' | 'combined';

export const PANEL_TITLES: Record<PanelId, string> = {
  gradient: 'Grad-CAM',
  region: 'Score-CAM',
  fusioncam: 'Fusion-CAM',
  denoised: 'Denoised gradient map',
  combined: 'Combined map',
};

export interface FusionView {
  map: Float32Array;
  warnings: string[];
}

/** Fusion-CAM step 5 (no model call). */
export function fuseOnPage(stage: StageData, tau: number): FusionView {
  const map = similarityFusion(stage.combined, stage.betas.combinedStep5, stage.region, stage.betas.regionStep5, tau, stage.variant);
  const warnings = [...stage.warnings];
  if (isConstant(map)) warnings.push('The Fusion-CAM map is constant.');
  return { map, warnings };
}

export function useFusion(): FusionView | null {
  const stage = useAppStore((s) => s.results.stage);
  const tau = useAppStore((s) => s.settings.tau);
  return useMemo(() => (stage ? fuseOnPage(stage, tau) : null), [stage, tau]);
}

/**
 * The agreement map of step 5 (docs/method.md §3.5): sim = clip(1 − |β_dr·L_dr − β_r·L_r| / τ, 0, 1), pixel
 * by pixel. 1 where the combined and region maps agree (Fusion-CAM keeps the larger), 0 where
 * they differ by τ or more (it averages them).
 */
export function agreementMap(stage: StageData, tau: number): Float32Array {
  const { combined, region } = stage;
  const b1 = stage.betas.combinedStep5;
  const b2 = stage.betas.regionStep5;
  const out = new Float32Array(combined.length);
  for (let i = 0; i < out.length; i++) {
    const d = Math.abs(Math.fround(combined[i] * b1) - Math.fround(region[i] * b2));
    out[i] = Math.min(1, Math.max(0, 1 - d / tau));
  }
  return out;
}

/** First name of a class label ("malamute, malemute, Alaskan malamute" → "malamute"). */
export function shortLabel(label: string): string {
  const first = label.split(',')[0].trim();
  return first || label;
}

export function useTargetClass(): { index: number; label: string; probability: number | null } | null {
  const classIndex = useAppStore((s) => s.settings.classIndex);
  const predictions = useAppStore((s) => s.results.predictions);
  const info = useAppStore((s) => s.model.info);
  if (!info || predictions.length === 0) return null;
  const index = classIndex !== null && classIndex < info.numClasses ? classIndex : predictions[0].index;
  const label = info.labels[index] ?? `class ${index}`;
  const p = predictions.find((q) => q.index === index)?.probability ?? null;
  return { index, label, probability: p };
}

/** The map each panel currently shows (null = nothing yet). */
export function usePanelMaps(): Record<PanelId, Float32Array | null> {
  const gradient = useAppStore((s) => s.results.gradient?.map ?? null);
  const region = useAppStore((s) => s.results.region?.map ?? null);
  const stage = useAppStore((s) => s.results.stage);
  const fusion = useFusion();
  return {
    gradient,
    region,
    fusioncam: fusion?.map ?? null,
    denoised: stage?.denoised ?? null,
    combined: stage?.combined ?? null,
  };
}
