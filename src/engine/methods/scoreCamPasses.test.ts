/**
 * Score-CAM on MobileNet v1 0.25 (real weights, wasm) at conv_pw_13_relu, where ReLU6 leaves
 * some channels all zero for dog.jpg: the forward passes actually run (counted independently,
 * as rows of every batch the model is asked to score) are K − constant + 1 for reference and
 * xplain (one shared baseline pass) and K − constant for original (constant channels skipped).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../node/backend';
import { loadLayersModelFromPathOrUrl, readImageFile } from '../../node/files';
import { CamModel } from '../model/camModel';
import { PREPROCESSING } from '../model/descriptor';
import { ExplanationSession } from '../session';
import { toModelInput } from '../image';

const SHARED = process.env.FUSION_CAM_SHARED ?? path.resolve(__dirname, '../../../../shared');

describe('Score-CAM forward passes on real MobileNet with constant channels', () => {
  let cam: CamModel;
  let input: Float32Array;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    cam = new CamModel(await loadLayersModelFromPathOrUrl(path.join(SHARED, 'models/mobilenet_v1_0.25_224')), {
      id: 'mn025',
      name: 'mn025',
      url: '',
      preprocessing: PREPROCESSING.mobilenet,
    });
    input = toModelInput(await readImageFile(path.join(SHARED, 'images/photos/dog.jpg')), cam.inputSize, PREPROCESSING.mobilenet).input;
  });

  for (const variant of ['reference', 'xplain', 'original'] as const) {
    it(`${variant}: passes run = K − constant channels${variant === 'original' ? '' : ' + 1'}`, async () => {
      const before = tf.memory().numTensors;
      const s = await ExplanationSession.create(cam, input);
      // constant channels, by a plain loop over the activations
      const [, h, w, K] = s.A.shape;
      const a = s.A.dataSync();
      let constant = 0;
      for (let k = 0; k < K; k++) {
        let mn = Infinity;
        let mx = -Infinity;
        for (let p = 0; p < h * w; p++) {
          mn = Math.min(mn, a[p * K + k]);
          mx = Math.max(mx, a[p * K + k]);
        }
        if (!(mx > mn)) constant++;
      }
      expect(constant).toBeGreaterThan(0); // the case this test is about
      // every image the model scores, counted where the model is called
      let rows = 0;
      const logits = cam.logits.bind(cam);
      cam.logits = (x) => {
        rows += x.shape[0];
        return logits(x);
      };
      try {
        const passes0 = s.forwardPasses;
        const r = await s.regionMap(s.predictedClass, { variant, batchSize: 64 });
        const expected = K - constant + (variant === 'original' ? 0 : 1);
        expect(rows).toBe(expected);
        expect(r.forwardPasses).toBe(expected);
        expect(r.constantChannels).toBe(constant);
        expect(s.forwardPasses - passes0).toBe(expected);
        expect(rows).toBeLessThan(K);
      } finally {
        cam.logits = logits;
      }
      s.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
