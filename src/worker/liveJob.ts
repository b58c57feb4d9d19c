/**
 * One live camera frame → the gradient-method map, by the same steps a dropped photo takes
 * (decodeImage's pixel read, toModelInput, an ExplanationSession, gradientMap), so the live map
 * and the map of the same pixels loaded as a file are one computation. The session lives for one
 * frame only: nothing is cached across frames and every tensor is freed before the reply.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExplainableModel } from '../engine/model/explainable';
import { ExplanationSession } from '../engine/session';
import { toModelInput } from '../engine/image';
import { bitmapPixels } from './decodeImage';
import type { LiveFrameRequest, LiveReply } from './liveProtocol';

export interface LiveHost {
  model(): ExplainableModel | null;
  post(message: LiveReply, transfer?: Transferable[]): void;
}

export async function runLiveFrame(req: LiveFrameRequest, host: LiveHost): Promise<void> {
  const t0 = performance.now();
  try {
    let rgba;
    try {
      rgba = bitmapPixels(req.frame);
    } finally {
      req.frame.close();
    }
    const model = host.model();
    if (!model) throw new Error('The model is not loaded yet');
    const { input } = toModelInput(rgba, model.inputSize, model.descriptor.preprocessing);
    // an unknown layer falls back to the default, as startSession does for a photo
    const layer = req.layer && model.candidateLayers().some((l) => l.name === req.layer) ? req.layer : undefined;
    const session = await ExplanationSession.create(model, input, layer);
    let reply: Extract<LiveReply, { type: 'liveMap' }>;
    try {
      const predictions = session.topK(5);
      // the page's targetClass(): a valid chosen class, else the top-1 of this frame
      const c = req.classIndex !== null && req.classIndex < model.numClasses ? req.classIndex : predictions[0].index;
      const r = await session.gradientMap(c, req.method, req.variant);
      reply = {
        type: 'liveMap',
        seq: req.seq,
        map: Float32Array.from(r.map),
        mapSize: model.inputSize,
        pixels: rgba.data as Uint8ClampedArray<ArrayBuffer>,
        width: rgba.width,
        height: rgba.height,
        classIndex: c,
        method: req.method,
        variant: req.variant,
        layer: session.layer,
        predictions,
        warnings: r.warnings,
        numTensors: 0,
        ms: 0,
      };
    } finally {
      session.dispose();
    }
    reply.numTensors = tf.memory().numTensors;
    reply.ms = performance.now() - t0;
    host.post(reply, [reply.map.buffer, reply.pixels.buffer]);
  } catch (e) {
    host.post({ type: 'liveError', seq: req.seq, message: e instanceof Error ? e.message : String(e) });
  }
}
