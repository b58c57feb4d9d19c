/**
 * The layer picker's thumbnails: one small Grad-CAM per candidate layer, all from one forward
 * and backward pass (engine: layerThumbnails), on the helper worker when there is one (so they
 * never delay a slider), else as one step on the engine worker's request queue. A newer job
 * (another image, class, model or preprocessing) drops the older one's results.
 */
import { toModelInput, type RgbImage } from '../engine/image';
import type { ExplainableModel } from '../engine/model/explainable';
import { layerThumbnails } from '../engine/model/layerThumbnails';
import type { ModelReply, ModelRequest } from './modelProtocol';
import type { HelperThumb } from './helperEngineProtocol';

export interface ThumbContext {
  model(): ExplainableModel | null;
  image(): { gen: number; rgba: RgbImage } | null;
  latestGen(): number;
  post(msg: ModelReply, transfer?: Transferable[]): void;
  /** Runs `task` after everything already waiting on the worker's queue. */
  enqueue(task: () => Promise<void>): void;
  /** The thumbnails computed by the helper worker (null when there is none); rejects if it cannot. */
  remoteThumbnails(input: Float32Array, layers: string[], classIndex: number, size: number): Promise<HelperThumb[]> | null;
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
  const local = async (): Promise<void> => {
    if (!live()) return;
    await layerThumbnails(model, input, req.classIndex, { layers: layers.map((l) => l.name), size: req.size, onThumbnail: (t, i) => live() && postThumb(i, t) });
  };
  // on the helper worker when there is one: the engine worker's queue stays free for the user
  const remote = ctx.remoteThumbnails(input, layers.map((l) => l.name), req.classIndex, req.size);
  if (!remote) {
    ctx.enqueue(local);
    return;
  }
  remote.then(
    (thumbs) => {
      if (live()) thumbs.forEach((t, i) => postThumb(i, t));
    },
    () => ctx.enqueue(local), // the helper cannot: on this worker's queue
  );
}
