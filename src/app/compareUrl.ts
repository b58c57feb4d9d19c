/**
 * `?pin=` — the pinned explanation's settings, e.g.
 * `pin=model:mobilenet_v1_0.25_224,layer:conv_pw_13_relu,class:249,variant:reference,gradient:gradcam,region:scorecam,theta:10,tau:1,weights:auto`.
 * The maps are not in the link: they are recomputed for the image the user loads.
 */
import { MODEL_REGISTRY } from '../engine/model/registry';
import { GRADIENT_METHODS, type GradientMethodId } from '../engine/methods/registry';
import { APP_REGION_METHODS } from './methodChoice';
import type { PinSpec } from './store/compare';

export function pinToParam(p: PinSpec): string {
  return [
    `model:${p.modelId}`,
    `layer:${p.layer}`,
    `class:${p.classIndex}`,
    `variant:${p.variant}`,
    `gradient:${p.gradientMethod}`,
    `region:${p.regionMethod}`,
    `theta:${p.theta}`,
    `tau:${p.tau}`,
    `weights:${p.weightsMode === 'manual' ? p.gamma : 'auto'}`,
  ].join(',');
}

/** The spec in `param`, or null if anything is missing or out of range. */
export function pinFromParam(param: string | null): PinSpec | null {
  if (!param) return null;
  const f = new Map<string, string>();
  for (const part of param.split(',')) {
    const i = part.indexOf(':');
    if (i > 0) f.set(part.slice(0, i), part.slice(i + 1));
  }
  const num = (k: string) => (f.get(k)?.trim() ? Number(f.get(k)) : NaN);
  const modelId = f.get('model') ?? '';
  const layer = f.get('layer') ?? '';
  const classIndex = num('class');
  const variant = f.get('variant');
  const gradientMethod = f.get('gradient') as GradientMethodId;
  const regionMethod = APP_REGION_METHODS.find((m) => m === f.get('region'));
  const theta = num('theta');
  const tau = num('tau');
  const weights = f.get('weights');
  const gamma = weights === 'auto' ? 0.5 : Number(weights);
  if (!MODEL_REGISTRY.some((m) => m.id === modelId) || !layer || !Number.isInteger(classIndex) || classIndex < 0) return null;
  if ((variant !== 'reference' && variant !== 'xplain') || !(gradientMethod in GRADIENT_METHODS) || !regionMethod) return null;
  if (!(theta >= 0 && theta < 100) || !(tau > 0) || !(gamma >= 0 && gamma <= 1)) return null;
  return { modelId, layer, classIndex, variant, gradientMethod, regionMethod, theta, tau, weightsMode: weights === 'auto' ? 'auto' : 'manual', gamma };
}
