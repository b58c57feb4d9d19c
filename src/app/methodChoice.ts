/**
 * Which gradient and region methods the app offers, and the panel captions that follow the
 * choice: the defaults keep the names "Grad-CAM" and "Score-CAM"; another method is captioned
 * by its own name, so a caption always says what the panel shows.
 */
import { GRADIENT_METHODS, type GradientMethodId } from '../engine/methods/gradient';
import type { RegionMethodId } from '../engine/methods/region';
import { REGION_METHODS } from '../engine/methods/registry';
import type { PanelId } from './derived';

/** Region methods selectable as Fusion-CAM's region branch (Union-CAM is itself an ensemble). */
export const APP_REGION_METHODS: RegionMethodId[] = ['scorecam', 'groupcam', 'ablationcam'];

export const GRADIENT_METHOD_OPTIONS = Object.values(GRADIENT_METHODS).map((m) => ({ value: m.id, label: m.label }));
export const REGION_METHOD_OPTIONS = APP_REGION_METHODS.map((id) => ({ value: id, label: REGION_METHODS[id]?.label ?? id }));

export function gradientLabel(id: GradientMethodId): string {
  return GRADIENT_METHODS[id]?.label ?? id;
}

export function regionLabel(id: RegionMethodId): string {
  return REGION_METHODS[id]?.label ?? id;
}

/** Every method the batch evaluation can score, in table order. */
export const EVALUATION_METHODS: { id: string; label: string }[] = [
  ...GRADIENT_METHOD_OPTIONS.map((o) => ({ id: o.value as string, label: o.label })),
  ...(Object.values(REGION_METHODS).map((m) => ({ id: m!.id as string, label: m!.label }))),
  { id: 'fusioncam', label: 'Fusion-CAM' },
];

export function methodLabel(id: string): string {
  return EVALUATION_METHODS.find((m) => m.id === id)?.label ?? id;
}

/** A panel's caption for the chosen methods; `fixed` is the caption of panels that do not depend on them. */
export function panelTitle(id: PanelId, methods: { gradientMethod: GradientMethodId; regionMethod: RegionMethodId }, fixed: string): string {
  if (id === 'gradient') return gradientLabel(methods.gradientMethod);
  if (id === 'region') return regionLabel(methods.regionMethod);
  return fixed;
}
