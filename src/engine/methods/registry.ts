/**
 * Every method, one line each, in the order the CLI, the app and the tables list them. Adding a
 * method means one module and one line here: every list of methods is derived from this one.
 */
import type { CamMethod, FeatureMapMethod, FusionMethod, RegionMethod } from './method';
import { gradCam } from './gradCam';
import { gradCamPlusPlus } from './gradCamPlusPlus';
import { xGradCam } from './xGradCam';
import { layerCam } from './layerCam';
import { hiResCam } from './hiResCam';
import { eigenCam } from './eigenCam';
import { scoreCam } from './scoreCam';
import { groupCam } from './groupCam';
import { ablationCam } from './ablationCam';
import { unionCam } from './unionCam';
import { fusionCam } from './fusionCam';

export const METHODS = [
  gradCam,
  gradCamPlusPlus,
  xGradCam,
  layerCam,
  hiResCam,
  eigenCam,
  scoreCam,
  groupCam,
  ablationCam,
  unionCam,
  fusionCam,
] as const;

type Registered = (typeof METHODS)[number];
export type MethodId = Registered['id'];
/** Feature-map methods (gradient and activation families): what Fusion-CAM's gradient branch takes. */
export type GradientMethodId = Extract<Registered, FeatureMapMethod<string>>['id'];
export type RegionMethodId = Extract<Registered, RegionMethod<string>>['id'];
export type FusionMethodId = Extract<Registered, FusionMethod<string>>['id'];

export const METHOD_IDS: MethodId[] = METHODS.map((m) => m.id);

const BY_ID = new Map<string, CamMethod>(METHODS.map((m) => [m.id, m]));

export function isMethodId(id: string): id is MethodId {
  return BY_ID.has(id);
}

export function methodById(id: string): CamMethod | undefined {
  return BY_ID.get(id);
}

export function isGradientMethodId(id: string): id is GradientMethodId {
  const m = BY_ID.get(id);
  return m !== undefined && (m.family === 'gradient' || m.family === 'activation');
}

export function isRegionMethodId(id: string): id is RegionMethodId {
  return BY_ID.get(id)?.family === 'region';
}

/** Feature-map methods by id (gradient and activation families). */
export const GRADIENT_METHODS = Object.fromEntries(METHODS.filter((m) => m.family === 'gradient' || m.family === 'activation').map((m) => [m.id, m])) as Record<GradientMethodId, FeatureMapMethod>;
export const GRADIENT_METHOD_IDS = Object.keys(GRADIENT_METHODS) as GradientMethodId[];
/** Region methods by id. */
export const REGION_METHODS = Object.fromEntries(METHODS.filter((m) => m.family === 'region').map((m) => [m.id, m])) as Record<RegionMethodId, RegionMethod>;
export const REGION_METHOD_IDS = Object.keys(REGION_METHODS) as RegionMethodId[];

export function methodLabel(id: string): string {
  return BY_ID.get(id)?.label ?? id;
}

/** "gradient family (gradcam, …), activation family (eigencam), region family (…) and fusioncam": for usage texts. */
export function methodFamiliesText(): string {
  const family = (f: string) => METHODS.filter((m) => m.family === f).map((m) => m.id);
  const parts = ['gradient', 'activation', 'region'].map((f) => `${f} family (${family(f).join(', ')})`);
  return `${parts.join(', ')} and ${family('fusion').join(', ')}`;
}
