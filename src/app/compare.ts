/**
 * Compare: pin the current explanation (its three maps at the image's display resolution, so a
 * model with another input size still compares), change layer / class / model / variant, and
 * see both side by side with an optional shared scale and a difference map. The pin is kept in
 * the URL (`?pin=`, recomputed for the image loaded) and in the export's JSON sidecar.
 */
import { useAppStore, type AppState } from './store';
import { fuseOnPage, shortLabel } from './derived';
import { resampleMap } from './render';
import { startRegion } from './engineClient';
import { pinToParam } from './compareUrl';
import type { PinSpec, PinnedExplanation } from './store/compare';

const get = () => useAppStore.getState();

export interface CurrentExplanation {
  spec: PinSpec;
  modelName: string;
  className: string;
  photo: ImageData;
  /** At model-input resolution. */
  maps: { gradient: Float32Array; region: Float32Array; fusion: Float32Array };
  mapSize: [number, number];
}

/** The current explanation when all three maps are ready, else null. */
export function currentExplanation(s: AppState = get()): CurrentExplanation | null {
  const { results, settings, model, input } = s;
  const g = results.gradient;
  const r = results.region;
  const stage = results.stage;
  if (!g || !r || r.status !== 'done' || !r.map || !stage || !input.photo || !model.info || !results.layer || input.decoding) return null;
  if (stage.classIndex !== g.classIndex || r.classIndex !== g.classIndex || stage.variant !== g.variant) return null;
  const c = g.classIndex;
  return {
    spec: {
      modelId: model.info.modelId,
      layer: results.layer,
      classIndex: c,
      variant: g.variant,
      gradientMethod: g.method ?? 'gradcam',
      regionMethod: r.method ?? 'scorecam',
      theta: stage.theta,
      tau: settings.tau,
      weightsMode: stage.weights.mode,
      gamma: stage.weights.mode === 'manual' ? stage.weights.gradientShare : settings.gamma,
    },
    modelName: model.info.name,
    className: `${shortLabel(model.info.labels[c] ?? `class ${c}`)} (class ${c})`,
    photo: input.photo,
    maps: { gradient: g.map, region: r.map, fusion: fuseOnPage(stage, settings.tau).map },
    mapSize: model.info.inputSize,
  };
}

/** Maps at model resolution → at the photo's display size. */
function atDisplay(cur: CurrentExplanation): PinnedExplanation['maps'] {
  const [h, w] = cur.mapSize;
  const { width: W, height: H } = cur.photo;
  // copies: resampleMap returns the map itself when the sizes agree
  return {
    gradient: Float32Array.from(resampleMap(cur.maps.gradient, h, w, W, H)),
    region: Float32Array.from(resampleMap(cur.maps.region, h, w, W, H)),
    fusion: Float32Array.from(resampleMap(cur.maps.fusion, h, w, W, H)),
  };
}

function pinOf(cur: CurrentExplanation): PinnedExplanation {
  return { spec: cur.spec, modelName: cur.modelName, className: cur.className, imageName: get().input.name, photo: cur.photo, maps: atDisplay(cur) };
}

/** "Pin": the current explanation becomes the pinned one. */
export function pinCurrent(): boolean {
  const cur = currentExplanation();
  if (!cur) return false;
  get().setCompare({ pinned: pinOf(cur), pending: null });
  return true;
}

export function unpin(): void {
  get().setCompare({ pinned: null, pending: null, difference: false });
}

/** The current maps at display size (the pinned photo's size when the images differ, for the difference). */
export function currentAtSize(cur: CurrentExplanation, W: number, H: number): PinnedExplanation['maps'] {
  const [h, w] = cur.mapSize;
  return { gradient: resampleMap(cur.maps.gradient, h, w, W, H), region: resampleMap(cur.maps.region, h, w, W, H), fusion: resampleMap(cur.maps.fusion, h, w, W, H) };
}

/** current − pinned at the current photo's display size; the pinned map is resampled if its image had another size. */
export function differenceMap(current: Float32Array, pinned: Float32Array, size: [number, number], pinnedSize: [number, number]): Float32Array {
  const [H, W] = size;
  const p = pinnedSize[0] === H && pinnedSize[1] === W ? pinned : resampleMap(pinned, pinnedSize[0], pinnedSize[1], W, H);
  const d = new Float32Array(H * W);
  for (let i = 0; i < d.length; i++) d[i] = current[i] - p[i];
  return d;
}

function sameSpec(a: PinSpec, b: PinSpec): boolean {
  return a.modelId === b.modelId && a.layer === b.layer && a.classIndex === b.classIndex && a.variant === b.variant && a.gradientMethod === b.gradientMethod && a.regionMethod === b.regionMethod && a.theta === b.theta && a.tau === b.tau && a.weightsMode === b.weightsMode && (a.weightsMode === 'auto' || a.gamma === b.gamma);
}

/**
 * A pin from the URL: the pinned settings are applied, their explanation computed for the image
 * on screen and pinned, and the user's settings put back (each change recomputes what it needs).
 */
async function recomputePin(spec: PinSpec): Promise<void> {
  const s = get();
  const gen = s.input.gen;
  const keep = s.settings;
  s.setCompare({ recomputing: true });
  const patch = { modelId: spec.modelId, layer: spec.layer, classIndex: spec.classIndex, variant: spec.variant, gradientMethod: spec.gradientMethod, regionMethod: spec.regionMethod, theta: spec.theta, tau: spec.tau, weightsMode: spec.weightsMode, gamma: spec.gamma };
  s.setSettings(patch);
  const pinned = await new Promise<PinnedExplanation | null>((resolve) => {
    const check = (st: AppState) => {
      if (st.input.gen !== gen || st.model.status === 'error') return finish(null);
      // a layer the pinned model does not have: nothing to recompute
      if (st.model.status === 'ready' && st.model.info?.modelId === spec.modelId && !st.model.info.layers.some((l) => l.name === spec.layer)) return finish(null);
      const cur = currentExplanation(st);
      if (cur && sameSpec(cur.spec, spec)) return finish(pinOf(cur));
      // a class set to the index it already had does not restart the region branch: start it
      const g = st.results.gradient;
      const r = st.results.region;
      if (g && r && r.status !== 'running' && g.classIndex === spec.classIndex && (r.method ?? 'scorecam') !== spec.regionMethod) startRegion();
    };
    const unsubscribe = useAppStore.subscribe(check);
    function finish(p: PinnedExplanation | null) {
      unsubscribe();
      resolve(p);
    }
    check(get());
  });
  const now = get();
  now.setCompare({ recomputing: false, pending: null, pinned: pinned ?? now.compare.pinned });
  if (!pinned) now.setUi({ notice: 'The pinned explanation in the link could not be recomputed for this image (model or layer unavailable).' });
  if (now.input.gen === gen) {
    now.setSettings({ modelId: keep.modelId, layer: keep.layer, classIndex: keep.classIndex, variant: keep.variant, gradientMethod: keep.gradientMethod, regionMethod: keep.regionMethod, theta: keep.theta, tau: keep.tau, weightsMode: keep.weightsMode, gamma: keep.gamma });
  }
}

/** What the export's JSON sidecar says about the comparison (null without a pin). */
export function compareSidecar(): Record<string, unknown> | null {
  const { compare } = get();
  const p = compare.pinned;
  if (!p) return null;
  const cur = currentExplanation();
  return {
    pin: pinToParam(p.spec),
    pinned: { ...p.spec, model: p.modelName, class: p.className, image: p.imageName, mapSize: [p.photo.height, p.photo.width] },
    current: cur ? { ...cur.spec, model: cur.modelName, class: cur.className } : null,
    sharedScale: compare.sharedScale,
    difference: compare.difference ? 'current − pinned' : null,
  };
}

let started = false;

/** Wires the URL to the pin and recomputes a pin from the link once an explanation is complete (once). */
export function startCompare(): void {
  if (started) return;
  started = true;
  useAppStore.subscribe((st, prev) => {
    if (st.compare.pinned !== prev.compare.pinned || st.compare.pending !== prev.compare.pending) {
      const q = new URLSearchParams(location.search);
      const spec = st.compare.pinned?.spec ?? st.compare.pending;
      if (spec) q.set('pin', pinToParam(spec));
      else q.delete('pin');
      const str = q.toString();
      history.replaceState(null, '', `${location.pathname}${str ? `?${str}` : ''}${location.hash}`);
    }
    const { pending, recomputing, pinned } = st.compare;
    if (pending && !recomputing && !pinned && currentExplanation(st)) void recomputePin(pending);
  });
}
