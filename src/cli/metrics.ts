/**
 * `fusion-cam metrics`: scores one map made anywhere (H×W little-endian float32 at the model's
 * input resolution, as `explain` writes it) with the authors' yardstick: Average Drop, Increase
 * in Confidence, Deletion and Insertion AUC (docs/method.md §5).
 */
import fs from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { CamError } from '../engine/errors';
import { toModelInput } from '../engine/image';
import { FaithfulnessEvaluator } from '../engine/metrics/faithfulness';
import { readImageFile } from '../node/files';
import { initBackend, loadCamModel, progressLine, reportError, UsageError } from './common';
import { classArg, countArg, parseFlags, resizeArg, type FlagName } from './options';

export const METRICS_USAGE = `usage: fusion-cam metrics --model <folder|model.json|URL> --image <file> --map <file.f32>
  [--class INDEX] [--json] [--step 448] [--batch 16] [--backend wasm|cpu]
  [--preprocessing mobilenet|unit|imagenet|raw] [--labels FILE] [--resize bilinear|pillow]
  The map is H×W little-endian float32 (row-major) at the model input size, used as given
  (no re-normalisation), as the authors' evaluation code does. Class: the predicted one unless --class.`;

const FLAG_NAMES = ['model', 'image', 'map', 'class', 'json', 'step', 'batch', 'backend', 'preprocessing', 'resize', 'labels', 'help'] as const satisfies readonly FlagName[];

/** Reads an H×W little-endian float32 map and checks its size and values. */
export async function readMapFile(file: string, [H, W]: [number, number]): Promise<Float32Array> {
  const buf = await fs.readFile(file).catch(() => {
    throw new CamError(`Map file not found: ${file}`, 'not-found');
  });
  if (buf.length !== H * W * 4) {
    const n = buf.length / 4;
    const side = Math.sqrt(n);
    const hint = Number.isInteger(side) ? ` (${side}×${side})` : '';
    throw new CamError(`${file} holds ${buf.length} bytes = ${n} float32 values${hint}; the model input is ${H}×${W} = ${H * W} values (${H * W * 4} bytes)`, 'bad-map');
  }
  const map = new Float32Array(H * W);
  for (let i = 0; i < map.length; i++) map[i] = buf.readFloatLE(i * 4);
  const bad = map.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new CamError(`${file} has a NaN or infinite value at pixel ${bad} (row ${Math.floor(bad / W)}, column ${bad % W})`, 'non-finite');
  return map;
}

export async function runMetrics(argv: string[]): Promise<number> {
  try {
    const a = parseFlags(argv, FLAG_NAMES);
    if (a.help) {
      process.stdout.write(METRICS_USAGE + '\n');
      return 0;
    }
    if (!a.image?.length) throw new UsageError('--image is required');
    if (a.image.length > 1) throw new UsageError('--image is given more than once; metrics scores one image');
    const imageFile = a.image[0];
    if (!a.map) throw new UsageError('--map is required (an H×W float32 file)');
    const resize = resizeArg(a.resize);
    const step = countArg(a.step, 'step', 448);
    const batchSize = countArg(a.batch, 'batch', 16);
    const classIndex = classArg(a.class);
    await initBackend(a.backend);
    const camModel = await loadCamModel(a, (s) => process.stderr.write(s + '\n'));
    try {
      if (classIndex !== undefined && classIndex >= camModel.numClasses) {
        throw new CamError(`Class index ${classIndex} is out of range: the model has classes 0–${camModel.numClasses - 1}`, 'class-range');
      }
      const map = await readMapFile(a.map, camModel.inputSize);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of map) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      if (lo < 0 || hi > 1) process.stderr.write(`note: the map's values span [${lo.toPrecision(4)}, ${hi.toPrecision(4)}], not [0, 1]; it is used as given\n`);
      const img = await readImageFile(imageFile);
      const { input } = toModelInput(img, camModel.inputSize, camModel.descriptor.preprocessing, resize);
      let c = classIndex;
      if (c === undefined) {
        const z = tf.tidy(() => tf.argMax(camModel.logits(tf.tensor4d(input, [1, ...camModel.inputSize, 3])), 1));
        c = (await z.data())[0];
        z.dispose();
      }
      const ev = FaithfulnessEvaluator.create((x) => camModel.logits(x), input, c, { size: camModel.inputSize, step, batchSize });
      const progress = progressLine('metrics');
      const t0 = performance.now();
      const r = await ev.evaluate(map, { onProgress: (p) => progress(p.done, p.total) }).finally(() => ev.dispose());
      const ms = performance.now() - t0;
      if (a.json) {
        const out = {
          image: imageFile,
          map: a.map,
          model: camModel.descriptor.id,
          class: { index: c, name: camModel.label(c), predicted: classIndex === undefined },
          originalProbability: r.original,
          maskedProbability: r.masked,
          averageDrop: r.drop,
          increase: r.increase,
          deletionAuc: r.deletion.auc,
          insertionAuc: r.insertion.auc,
          step,
          deletion: Array.from(r.deletion.scores),
          insertion: Array.from(r.insertion.scores),
          timeMs: Math.round(ms),
        };
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      } else {
        process.stdout.write(
          [
            `class          ${c} ${camModel.label(c)}${classIndex === undefined ? ' (predicted)' : ''}`,
            `p_c(x)         ${r.original.toFixed(6)}`,
            `p_c(x ⊙ L)     ${r.masked.toFixed(6)}`,
            `Average Drop   ${r.drop.toFixed(4)}`,
            `Increase       ${r.increase}`,
            `Deletion AUC   ${r.deletion.auc.toFixed(4)}   (${r.deletion.scores.length} points, lower is better)`,
            `Insertion AUC  ${r.insertion.auc.toFixed(4)}   (${r.insertion.scores.length} points, higher is better)`,
          ].join('\n') + '\n',
        );
      }
      return 0;
    } finally {
      camModel.dispose();
    }
  } catch (e) {
    return reportError(e, METRICS_USAGE);
  }
}
