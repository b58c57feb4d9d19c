/**
 * Which gradient and region methods the app offers, and the panel captions that follow the
 * choice: the defaults keep the names "Grad-CAM" and "Score-CAM"; another method is captioned
 * by its own name, so a caption always says what the panel shows. Every list is the registry's.
 */
import { GRADIENT_METHODS, METHODS, methodLabel as registryLabel, REGION_METHOD_IDS, REGION_METHODS, type GradientMethodId, type RegionMethodId } from '../engine/methods/registry';
import type { PanelId } from './derived';

/** Region methods selectable as Fusion-CAM's region branch (Union-CAM is itself an ensemble of a region map). */
export const APP_REGION_METHODS: RegionMethodId[] = REGION_METHOD_IDS.filter((id) => id !== 'unioncam');

/** Fusion-CAM's gradient branch: every feature-map method (gradient family, and EigenCAM, which needs no gradient). */
export const GRADIENT_METHOD_OPTIONS = Object.values(GRADIENT_METHODS).map((m) => ({ value: m.id as GradientMethodId, label: m.label }));
export const REGION_METHOD_OPTIONS = APP_REGION_METHODS.map((id) => ({ value: id, label: REGION_METHODS[id].label }));

export function gradientLabel(id: GradientMethodId): string {
  return GRADIENT_METHODS[id]?.label ?? id;
}

export function regionLabel(id: RegionMethodId): string {
  return REGION_METHODS[id]?.label ?? id;
}

/** Every method the batch evaluation can score, in table order. */
export const EVALUATION_METHODS: { id: string; label: string }[] = METHODS.map((m) => ({ id: m.id, label: m.label }));

export function methodLabel(id: string): string {
  return registryLabel(id);
}

/** A panel's caption for the chosen methods; `fixed` is the caption of panels that do not depend on them. */
export function panelTitle(id: PanelId, methods: { gradientMethod: GradientMethodId; regionMethod: RegionMethodId }, fixed: string): string {
  if (id === 'gradient') return gradientLabel(methods.gradientMethod);
  if (id === 'region') return regionLabel(methods.regionMethod);
  return fixed;
}
