/**
 * The layer picker's thumbnails: one small Grad-CAM per candidate layer, on the helper worker
 * when there is one (so they never delay a slider), else in the engine worker where each layer
 * is its own step on the worker's request queue, queued after a turn of the event
 * loop, so a Grad-CAM, a Fusion-CAM, a model load or a slider change requested meanwhile waits
 * for one layer at most, not for all of them. A newer
 * job (another image, class, model or preprocessing) makes the older one stop at its next step.
 */
import { toModelInput, type RgbImage } from '../engine/image';
import type { ExplainableModel } from '../engine/model/explainable';
import { layerThumbnails } from '../engine/model/layerThumbnails';
import type { ModelReply, ModelRequest } from './modelProtocol';
import type { HelperThumb } from './scoreHelperProtocol';

export interface ThumbContext {
  model(): ExplainableModel | null;
  image(): { gen: number; rgba: RgbImage } | null;
  latestGen(): number;
  post(msg: ModelReply, transfer?: Transferable[]): void;
  /** Runs `task` after everything already waiting on the worker's queue. */
  enqueue(task: () => Promise<void>): void;
  /** A thumbnail computed by the helper worker (null when there is none); rejects if it cannot. */
  remoteThumbnail(input: Float32Array, layer: string, classIndex: number, size: number): Promise<HelperThumb> | null;
}

let currentJob = -1;

export function startLayerThumbnails(req: Extract<ModelRequest, { type: 'layerThumbs' }>, ctx: ThumbContext): void {
  currentJob = req.job;
  const model = ctx.model();
  const image = ctx.image();
  if (!model || !image || image.gen !== req.gen) return;
  const { input } = toModelInput(image.rgba, model.inputSize, model.descriptor.preprocessing);
  const layers = model.candidateLayers();
  const live = () => currentJob === req.job && ctx.model() === model && ctx.image() === image && req.gen >= ctx.latestGen();
  const postThumb = (i: number, t: HelperThumb) =>
    ctx.post({ type: 'layerThumb', gen: req.gen, job: req.job, classIndex: req.classIndex, index: i, count: layers.length, layer: layers[i].name, map: t.map, size: t.size, allZero: t.allZero, error: t.error }, [t.map.buffer]);
  // on the helper worker when there is one: the engine worker's queue stays free for the user
  const remote = async (i: number): Promise<void> => {
    for (; i < layers.length && live(); i++) {
      const job = ctx.remoteThumbnail(input, layers[i].name, req.classIndex, req.size);
      if (!job) break;
      let t: HelperThumb;
      try {
        t = await job;
      } catch {
        break; // the helper cannot: the rest on this worker's queue
      }
      if (!live()) return;
      postThumb(i, t);
    }
    if (i < layers.length && live()) ctx.enqueue(() => step(i));
  };
  const step = async (i: number): Promise<void> => {
    if (!live() || i >= layers.length) return;
    const [t] = await layerThumbnails(model, input, req.classIndex, { layers: [layers[i].name], size: req.size });
    postThumb(i, t);
    // through a timer: wasm work resolves in microtasks, so without a real turn of the event
    // loop no message (a new class, a model load, a cancel) would be read until the last layer
    setTimeout(() => ctx.enqueue(() => step(i + 1)), 0);
  };
  void remote(0);
}
