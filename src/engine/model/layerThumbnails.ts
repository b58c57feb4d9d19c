/**
 * For the layer picker: a small Grad-CAM per candidate layer for one image and class, so the
 * user sees how the explanation changes with depth.
 *
 * On a LayersModel all layers come from ONE forward and ONE backward pass: each layer's output
 * goes through an identity whose custom gradient receives ∂z_c/∂A of that layer on the way back
 * and turns it into that layer's Grad-CAM saliency at once (so no activation or gradient is kept
 * beyond its small map). Layer by layer, the ~80 layers of MobileNet cost ~80 forward and
 * backward passes. Models without hooks (GraphModel) go layer by layer. Thumbnails are handed
 * over in order (`onThumbnail`), and the run can be cancelled between them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CamError, throwIfAborted } from '../errors';
import { resizeBilinear } from '../maps';
import { gradCam } from '../methods/gradCam';
import { ExplanationSession, checkModelInput, gradientMapFromSaliency, nonFiniteActivationsMessage } from '../session';
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
  if (model.logitsThrough && layers.length > 1) return onePass(model, input, classIndex, layers, size, opts);
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

async function onePass(model: ExplainableModel, input: Float32Array, classIndex: number, layers: LayerInfo[], size: [number, number], opts: LayerThumbnailOptions): Promise<LayerThumbnail[]> {
  checkModelInput(model, input);
  const [H, W] = model.inputSize;
  // per layer, filled in during the backward pass: the saliency and the count of non-finite activations
  const saliency = new Map<string, { sal: tf.Tensor2D; bad: tf.Scalar; total: number }>();
  const hooks = new Map<string, (a: tf.Tensor) => tf.Tensor>();
  for (const l of layers) {
    hooks.set(
      l.name,
      tf.customGrad(((a: tf.Tensor, save: tf.GradSaveFunc) => {
        save([a]);
        return {
          value: tf.clone(a),
          gradFunc: (dy: tf.Tensor, [A]: tf.Tensor[]) => {
            const [, h, w, K] = A.shape;
            saliency.get(l.name)?.sal.dispose();
            saliency.get(l.name)?.bad.dispose();
            saliency.set(l.name, {
              sal: tf.keep(gradCam.saliency({ A: tf.reshape(A, [h, w, K]) as tf.Tensor3D, gradients: () => tf.reshape(dy, [h, w, K]) as tf.Tensor3D }) as tf.Tensor2D),
              bad: tf.keep(tf.sum(tf.cast(tf.logicalNot(tf.isFinite(A)), 'int32'))),
              total: A.size,
            });
            return tf.clone(dy);
          },
        };
      }) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor) => tf.Tensor,
    );
  }
  let logits: tf.Tensor | null = null;
  const x = tf.tensor4d(input, [1, H, W, 3]);
  try {
    tf.tidy(() => {
      const g = tf.grad((xx: tf.Tensor) => {
        const z = model.logitsThrough!(xx as tf.Tensor4D, hooks);
        logits = tf.keep(tf.clone(z));
        return tf.sum(tf.slice(z, [0, classIndex], [1, 1]));
      })(x);
      g.dispose();
    });
    const z = (await logits!.data()) as Float32Array;
    const badScores = z.some((v) => !Number.isFinite(v));
    const out: LayerThumbnail[] = [];
    for (const [i, layer] of layers.entries()) {
      if (i > 0) throwIfAborted(opts.signal);
      const got = saliency.get(layer.name);
      let t: LayerThumbnail;
      try {
        // the same checks and post-processing as a session's Grad-CAM at this layer
        if (badScores) throw new CamError('The model produced NaN or infinite scores for this image (a broken model or weights?)', 'non-finite');
        if (!got) throw new CamError(`No gradient reached layer ${layer.name}`);
        const bad = (await got.bad.data())[0];
        if (bad > 0) throw new CamError(nonFiniteActivationsMessage(layer.name, bad, got.total), 'non-finite');
        const g = await gradientMapFromSaliency(got.sal, [H, W], gradCam.label, 'gradcam', 'reference');
        t = { layer, map: resizeBilinear(g.map, H, W, size[0], size[1]), size, allZero: g.allZero };
      } catch (e) {
        t = { layer, map: new Float32Array(0), size, allZero: false, error: (e as Error).message };
      }
      out.push(t);
      opts.onThumbnail?.(t, i, layers.length);
    }
    return out;
  } finally {
    x.dispose();
    (logits as tf.Tensor | null)?.dispose();
    for (const { sal, bad } of saliency.values()) {
      sal.dispose();
      bad.dispose();
    }
  }
}
