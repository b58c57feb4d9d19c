/**
 * The page side of user models and the layer picker: sends dropped files, a model URL or a
 * preprocessing choice to the engine worker, keeps the store's `modelSource` slice up to date,
 * and asks for a fresh set of layer thumbnails whenever the image, model, preprocessing or
 * target class changes (not when only the chosen layer does: the thumbnails do not depend on it).
 */
import { useAppStore } from './store';
import { targetClass } from './targetClass';
import { send as sendToEngine, subscribe } from './engineBus';
import type { WorkerReply } from '../worker/protocol';
import type { ModelFileEntry, ModelRequest } from '../worker/modelProtocol';

/** Longer side of a layer thumbnail, in model-map pixels. */
export const THUMB_SIZE = 56;

let attached = false;
let thumbJob = 0;
const get = () => useAppStore.getState();

function send(req: ModelRequest, transfer: Transferable[] = []): void {
  sendToEngine(req, transfer);
}

/** Loads a model from dropped or picked files; the current model stays in use until it is ready. */
export function loadModelFiles(entries: ModelFileEntry[]): void {
  if (entries.length === 0) return;
  get().setModelSource({ userLoad: { what: `${entries.length} file${entries.length > 1 ? 's' : ''}`, loaded: 0, total: 0 }, userError: null });
  send({ type: 'loadModelFiles', files: entries });
}

export function loadModelUrl(url: string): void {
  get().setModelSource({ userLoad: { what: url, loaded: 0, total: 0 }, userError: null });
  send({ type: 'loadModelUrl', url });
}

export function choosePreprocessing(id: string): void {
  send({ type: 'setPreprocessing', id });
}

function thumbKey(): string | null {
  const { input, model, results, modelSource } = get();
  const c = targetClass();
  if (!model.info || c === null || results.predictions.length === 0) return null;
  return `${input.gen}|${model.info.modelId}|${modelSource.details?.preprocessing ?? ''}|${model.backend ?? ''}|${c}`;
}

function requestThumbs(): void {
  const key = thumbKey();
  const { modelSource, setModelSource, model, input } = get();
  if (key === null || key === modelSource.thumbs.key) return;
  const job = ++thumbJob;
  setModelSource({ thumbs: { key, job, count: model.info?.layers.length ?? 0, byLayer: {} } });
  const classIndex = targetClass()!;
  const gen = input.gen;
  // after the maps the page asks for in this same tick: the explanation comes first
  setTimeout(() => {
    if (get().modelSource.thumbs.job === job) send({ type: 'layerThumbs', gen, job, classIndex, size: THUMB_SIZE });
  }, 0);
}

function onReply(msg: WorkerReply): void {
  const s = get();
  switch (msg.type) {
    case 'modelDetails':
      s.setModelSource({ details: msg.details });
      return;
    case 'modelLoaded':
      if (s.modelSource.userLoad) s.setModelSource({ userLoad: null, userError: null });
      return;
    case 'customModelProgress':
      if (s.modelSource.userLoad) s.setModelSource({ userLoad: { ...s.modelSource.userLoad, loaded: msg.loaded, total: msg.total } });
      return;
    case 'customModelError':
      s.setModelSource({ userLoad: null, userError: msg.message });
      return;
    case 'layerThumb': {
      const t = s.modelSource.thumbs;
      if (msg.job !== t.job) return;
      s.setModelSource({ thumbs: { ...t, count: msg.count, byLayer: { ...t.byLayer, [msg.layer]: { map: msg.map, size: msg.size, allZero: msg.allZero, error: msg.error } } } });
      return;
    }
  }
}

/** Wires the worker's replies and the store to this module (once, from startEngine). */
export function attachModelClient(): void {
  if (attached) return;
  attached = true;
  subscribe(onReply);
  useAppStore.subscribe((state, prev) => {
    if (state.results.predictions !== prev.results.predictions || state.settings.classIndex !== prev.settings.classIndex || state.modelSource.details !== prev.modelSource.details) {
      requestThumbs();
    }
  });
}
