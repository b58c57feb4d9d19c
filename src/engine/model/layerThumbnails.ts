/**
 * For the layer picker: a small Grad-CAM per candidate layer for one image and class, so the
 * user sees how the explanation changes with depth. Each layer costs one forward and one
 * backward pass; thumbnails are delivered one by one (`onThumbnail`) and the run can be
 * cancelled between layers.
 */
import { throwIfAborted } from '../errors';
import { resizeBilinear } from '../maps';
import { ExplanationSession } from '../session';
import type { LayerInfo } from './camModel';
import type { ExplainableModel } from './explainable';

export interface LayerThumbnail {
  layer: LayerInfo;
  /** Grad-CAM in [0,1], `size[0]×size[1]`, row-major; empty when `error` is set. */
  map: Float32Array;
  size: [number, number];
  /** All evidence at this layer is negative for the class (the map is all zero). */
  allZero: boolean;
  /** Why there is no map at this layer (e.g. a GraphModel without gradients there). */
  error?: string;
}

export interface LayerThumbnailOptions {
  /** Default: every candidate layer, in order. */
  layers?: string[];
  /** Longer side of the thumbnail in pixels (default 56); the input's aspect is kept. */
  size?: number;
  signal?: AbortSignal;
  onThumbnail?(t: LayerThumbnail, index: number, count: number): void;
}

export async function layerThumbnails(model: ExplainableModel, input: Float32Array, classIndex: number, opts: LayerThumbnailOptions = {}): Promise<LayerThumbnail[]> {
  const all = model.candidateLayers();
  const layers = opts.layers ? opts.layers.map((n) => all.find((l) => l.name === n) ?? model.split(n).layer) : all;
  const [H, W] = model.inputSize;
  const longer = opts.size ?? 56;
  const size: [number, number] = H >= W ? [longer, Math.max(1, Math.round((longer * W) / H))] : [Math.max(1, Math.round((longer * H) / W)), longer];
  const out: LayerThumbnail[] = [];
  for (const [i, layer] of layers.entries()) {
    throwIfAborted(opts.signal);
    let t: LayerThumbnail;
    const session = await ExplanationSession.create(model, input, layer.name);
    try {
      const g = await session.gradientMap(classIndex);
      t = { layer, map: resizeBilinear(g.map, H, W, size[0], size[1]), size, allZero: g.allZero };
    } catch (e) {
      t = { layer, map: new Float32Array(0), size, allZero: false, error: (e as Error).message };
    } finally {
      session.dispose();
    }
    out.push(t);
    opts.onThumbnail?.(t, i, layers.length);
  }
  return out;
}
