/**
 * Darknet-tiny end to end in Node through the registry descriptor: plain logits (no softmax to
 * strip), its own class order, default layer leaky_re_lu_15, and sensible top-1 accuracy on real
 * ImageNet validation images (whole image resized, as the app and CLI do).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import fs from 'node:fs/promises';
import path from 'node:path';
import { initNodeBackend } from '../../node/backend';
import { loadLayersModelFromPathOrUrl, readImageFile } from '../../node/files';
import { toModelInput } from '../image';
import { ExplanationSession } from '../session';
import { CamModel } from './camModel';
import { describeRegistryModel } from './registry';

const SHARED = process.env.FUSION_CAM_SHARED ?? path.resolve(__dirname, '../../../../shared');
const readJson = async <T>(p: string): Promise<T> => JSON.parse(await fs.readFile(p, 'utf8')) as T;

let cam: CamModel;
let darknetToImagenet: number[];
beforeAll(async () => {
  await initNodeBackend('wasm');
  const descriptor = describeRegistryModel('darknet_tiny', path.join(SHARED, 'models') + path.sep);
  // labelsUrl is relative to model.json
  const labels = await readJson<string[]>(path.resolve(path.dirname(descriptor.url), descriptor.labelsUrl!));
  cam = new CamModel(await loadLayersModelFromPathOrUrl(descriptor.url), { ...descriptor, labels });
  darknetToImagenet = await readJson<number[]>(path.join(SHARED, 'labels/darknet_to_imagenet_index.json'));
});
afterAll(() => cam?.dispose());

describe('Darknet-tiny from the registry', () => {
  it('outputs logits (nothing to strip), 1000 Darknet-order classes, default layer leaky_re_lu_15 at 14×14×128', () => {
    expect(cam.stopsBeforeSoftmax).toBe(false);
    expect(cam.numClasses).toBe(1000);
    expect(cam.defaultLayer()).toBe('leaky_re_lu_15');
    expect(cam.split().layer).toEqual({ name: 'leaky_re_lu_15', className: 'LeakyReLU', shape: [14, 14, 128] });
    expect(cam.label(0)).toBe('kit fox');
    // the engine's logits are the published output itself, and that output is not a probability vector
    const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const z = tf.tidy(() => cam.logits(x).dataSync());
    const published = tf.tidy(() => (cam.model.predict(x) as tf.Tensor).dataSync());
    let d = 0;
    for (let i = 0; i < z.length; i++) d = Math.max(d, Math.abs(z[i] - published[i]));
    expect(d).toBeLessThan(1e-3);
    expect(Math.abs(Array.from(z).reduce((a, b) => a + b, 0) - 1)).toBeGreaterThan(0.1);
    expect(Math.min(...z)).toBeLessThan(0);
    x.dispose();
  });

  it('predicts ImageNet validation images sensibly (top-1 on 30 images, Darknet order mapped to ImageNet)', async () => {
    const meta = await readJson<{ images: { file: string; label: number; name: string }[] }>(path.join(SHARED, 'images/imagenet_val/labels.json'));
    // every 6th image: 30 images spread over the set, not hand-picked
    const sample = meta.images.filter((_, i) => i % 6 === 0).slice(0, 30);
    let top1 = 0;
    let top5 = 0;
    for (const e of sample) {
      const img = await readImageFile(path.join(SHARED, 'images/imagenet_val', e.file));
      const { input } = toModelInput(img, cam.inputSize, cam.descriptor.preprocessing);
      const z = tf.tidy(() => cam.logits(tf.tensor4d(input, [1, 224, 224, 3])).dataSync());
      const order = Array.from(z, (v, i) => [v, i]).sort((a, b) => b[0] - a[0]).map((p) => darknetToImagenet[p[1]]);
      if (order[0] === e.label) top1++;
      if (order.slice(0, 5).includes(e.label)) top5++;
    }
    console.log(`darknet_tiny on ${sample.length} imagenet_val images: top-1 ${top1}/${sample.length}, top-5 ${top5}/${sample.length}`);
    // PROVENANCE: 67.4 % top-1 on all 193; chance is 0.1 %
    expect(top1 / sample.length).toBeGreaterThanOrEqual(0.5);
    expect(top5 / sample.length).toBeGreaterThanOrEqual(0.75);
  });

  it('explains at leaky_re_lu_15 with Grad-CAM through a session, without leaks', async () => {
    const img = await readImageFile(path.join(SHARED, 'images/photos/dog.jpg'));
    const { input } = toModelInput(img, cam.inputSize, cam.descriptor.preprocessing);
    const before = tf.memory().numTensors;
    const s = await ExplanationSession.create(cam, input);
    expect(s.layer).toBe('leaky_re_lu_15');
    // the photo shows a dog: the top class, mapped to ImageNet order, is one of the dog classes 151–268
    const top = darknetToImagenet[s.predictedClass];
    expect(top).toBeGreaterThanOrEqual(151);
    expect(top).toBeLessThanOrEqual(268);
    const g = await s.gradientMap(s.predictedClass);
    expect(g.allZero).toBe(false);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
