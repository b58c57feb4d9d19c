/**
 * Live camera requests: one camera frame in, the gradient-method map and the top-5 out. The page
 * keeps one frame in flight (frames are dropped, never queued), so these never pile up behind
 * each other in the worker's queue.
 */
import type { Prediction } from '../engine/session';
import type { FusionVariant } from '../engine/maps';
import type { GradientMethodId } from '../engine/methods/registry';

export interface LiveFrameRequest {
  type: 'liveFrame';
  seq: number;
  /** The frame, transferred (createImageBitmap(video)); the worker closes it. */
  frame: ImageBitmap;
  /** Target class; null = the frame's top-1 prediction (as for a photo). */
  classIndex: number | null;
  method: GradientMethodId;
  variant: FusionVariant;
  /** Target layer; undefined = the model's default layer. */
  layer?: string;
}

export type LiveReply =
  | {
      type: 'liveMap';
      seq: number;
      map: Float32Array;
      mapSize: [number, number];
      /** The exact RGBA pixels the map was computed from (Freeze frame turns them into the image). */
      pixels: Uint8ClampedArray<ArrayBuffer>;
      width: number;
      height: number;
      classIndex: number;
      method: GradientMethodId;
      variant: FusionVariant;
      layer: string;
      predictions: Prediction[];
      warnings: string[];
      /** tf.memory().numTensors after the frame's tensors were freed (leak checks). */
      numTensors: number;
      /** Worker time for this frame, decode to map. */
      ms: number;
    }
  | { type: 'liveError'; seq: number; message: string };

export function isLiveReply(m: { type: string }): m is LiveReply {
  return m.type === 'liveMap' || m.type === 'liveError';
}
