/**
 * The URL query mirrors the settings, so a reload or a shared link restores them. Unknown or
 * out-of-range values are ignored (the default stays).
 */
import { DEFAULT_SETTINGS, type Settings } from './store/settings';
import { isColormapId } from './colormaps';
import { MODEL_REGISTRY } from '../engine/model/registry';
import { isGradientMethodId } from '../engine/methods/registry';
import { APP_REGION_METHODS } from './methodChoice';

function num(v: string | null, lo: number, hi: number, hiOpen = false): number | undefined {
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || (hiOpen ? n >= hi : n > hi)) return undefined;
  return n;
}

export function settingsFromQuery(search: string): Settings {
  const q = new URLSearchParams(search);
  const s: Settings = { ...DEFAULT_SETTINGS };
  s.theta = num(q.get('theta'), 0, 100, true) ?? s.theta;
  const tau = num(q.get('tau'), 0, 1e6);
  if (tau !== undefined && tau > 0) s.tau = tau;
  const variant = q.get('variant');
  if (variant === 'reference' || variant === 'xplain') s.variant = variant;
  const weights = q.get('weights');
  if (weights === 'auto') s.weightsMode = 'auto';
  else {
    const g = num(weights, 0, 1);
    if (g !== undefined) {
      s.weightsMode = 'manual';
      s.gamma = g;
    }
  }
  const cm = q.get('colormap');
  if (cm && isColormapId(cm)) s.colormap = cm;
  s.opacity = num(q.get('opacity'), 0, 1) ?? s.opacity;
  const scale = q.get('scale');
  if (scale === 'each' || scale === 'shared') s.scale = scale;
  const cls = num(q.get('class'), 0, 1e6);
  if (cls !== undefined && Number.isInteger(cls)) s.classIndex = cls;
  const model = q.get('model');
  if (model && MODEL_REGISTRY.some((m) => m.id === model)) s.modelId = model;
  const layer = q.get('layer');
  if (layer) s.layer = layer;
  const backend = q.get('backend');
  if (backend === 'webgpu' || backend === 'webgl' || backend === 'wasm' || backend === 'cpu' || backend === 'auto') s.backend = backend;
  s.showIntermediate = q.get('intermediate') === '1';
  const gm = q.get('gradient');
  if (gm && isGradientMethodId(gm)) s.gradientMethod = gm;
  const rm = APP_REGION_METHODS.find((m) => m === q.get('region'));
  if (rm) s.regionMethod = rm;
  return s;
}

/** The query string for `s`, keeping unrelated parameters (e.g. `models`) of `search`. */
export function queryFromSettings(s: Settings, search: string): string {
  const q = new URLSearchParams(search);
  const put = (k: string, v: string | null, dflt: string | null) => {
    if (v === null || v === dflt) q.delete(k);
    else q.set(k, v);
  };
  const d = DEFAULT_SETTINGS;
  put('theta', String(s.theta), String(d.theta));
  put('tau', String(s.tau), String(d.tau));
  put('variant', s.variant, d.variant);
  put('weights', s.weightsMode === 'auto' ? 'auto' : String(s.gamma), 'auto');
  put('colormap', s.colormap, d.colormap);
  put('opacity', String(s.opacity), String(d.opacity));
  put('scale', s.scale, d.scale);
  put('class', s.classIndex === null ? null : String(s.classIndex), null);
  put('model', s.modelId, d.modelId);
  put('layer', s.layer, null);
  put('backend', s.backend, d.backend);
  put('intermediate', s.showIntermediate ? '1' : null, null);
  put('gradient', s.gradientMethod, d.gradientMethod);
  put('region', s.regionMethod, d.regionMethod);
  const str = q.toString();
  return str ? `?${str}` : '';
}
