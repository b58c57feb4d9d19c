/** `fusion-cam explain`: maps, β values and overlays for each image, written to a folder. */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CamError } from '../engine/errors';
import { toModelInput } from '../engine/image';
import { resizeBilinear } from '../engine/maps';
import { methodById, methodFamiliesText } from '../engine/methods/registry';
import { computeMap } from '../engine/computeMap';
import { overlayRgba } from '../engine/render';
import { COLORMAP_IDS, type ColormapId } from '../engine/colormaps';
import { ExplanationSession } from '../engine/session';
import type { FusionParams } from '../engine/fusion';
import { readImageFile } from '../node/files';
import { encodePng } from '../node/png';
import { initBackend, listImages, loadCamModel, progressLine, reportError, stemOf, UsageError } from './common';
import { classArg, METHOD_FLAGS, methodSettings, numberArg, parseFlags, resizeArg, workersArg, type FlagName } from './options';
import { EXPLAIN_USAGE } from './usage';
import { CliScoreWorkers, usesScoreCam } from './workers';

export { EXPLAIN_USAGE };

const FLAG_NAMES = [
  'model', 'image', 'layer', 'class', ...METHOD_FLAGS, 'gradient-share', 'backend', 'preprocessing', 'labels',
  'resize', 'colormap', 'opacity', 'save-input', 'workers', 'out', 'help',
] as const satisfies readonly FlagName[];

function f32Bytes(map: Float32Array): Buffer {
  const b = Buffer.alloc(map.length * 4);
  for (let i = 0; i < map.length; i++) b.writeFloatLE(map[i], i * 4);
  return b;
}

/** `early`: worker threads main.ts started from the raw arguments (adopted if they fit, else stopped). */
export async function runExplain(argv: string[], early: CliScoreWorkers | null = null): Promise<number> {
  let helpers: CliScoreWorkers | null = null;
  try {
    const a = parseFlags(argv, FLAG_NAMES);
    if (a.help) {
      process.stdout.write(`${EXPLAIN_USAGE}\n  Methods: ${methodFamiliesText()}.\n`);
      return 0;
    }
    const { methods, variant, regionVariant, gradientMethod, regionMethod, theta, tau, batchSize } = methodSettings(a);
    const share = a['gradient-share'] === undefined ? undefined : numberArg(a['gradient-share'], 'gradient-share', 0.5, (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
    const opacity = numberArg(a.opacity, 'opacity', 0.5, (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
    const colormap = (a.colormap ?? 'turbo') as ColormapId;
    if (!COLORMAP_IDS.includes(colormap)) throw new UsageError(`--colormap must be one of ${COLORMAP_IDS.join(', ')}`);
    const resize = resizeArg(a.resize);
    const classIndex = classArg(a.class);
    const workers = workersArg(a.workers);
    const outDir = a.out ?? 'out';
    const images = await listImages(a.image ?? []);
    const backend = await initBackend(a.backend);
    // the worker threads load the model while this thread does
    if (workers > 1 && usesScoreCam(methods, regionMethod)) helpers = early?.matches(workers, a, backend) ? early : new CliScoreWorkers(workers, a, backend);
    const camModel = await loadCamModel(a, (s) => process.stderr.write(s + '\n'));
    if (classIndex !== undefined && classIndex >= camModel.numClasses) {
      throw new CamError(`Class index ${classIndex} is out of range: the model has classes 0–${camModel.numClasses - 1}`, 'class-range');
    }
    const layer = a.layer ?? camModel.defaultLayer();
    camModel.split(layer); // fail early on a bad layer
    helpers?.arm();
    await fs.mkdir(outDir, { recursive: true });
    const params: FusionParams = { theta, tau, variant, weights: share === undefined ? { mode: 'auto' } : { mode: 'manual', gradientShare: share } };

    for (const [imageIndex, file] of images.entries()) {
      const stem = stemOf(file);
      const t0 = performance.now();
      const img = await readImageFile(file);
      const { rgb, input } = toModelInput(img, camModel.inputSize, camModel.descriptor.preprocessing, resize);
      const session = await ExplanationSession.create(camModel, input, layer);
      try {
        const c = classIndex ?? session.predictedClass;
        const timings: Record<string, number> = { prepare: performance.now() - t0 };
        const maps: Record<string, Float32Array> = {};
        const details: Record<string, unknown> = {};
        /** Score-CAM passes run on the worker threads, per method. */
        const workerPasses: Record<string, number> = {};
        const [H, W] = camModel.inputSize;
        for (const m of methods) {
          const t = performance.now();
          // remoteScores for this method's Score-CAM run (if it runs one: a cached map costs nothing)
          const remote = methodById(m)!.needs.forwardPasses ? helpers?.run({ key: imageIndex, input, layer, classIndex: c, variant: regionVariant, batchSize }) ?? null : null;
          const progress = m === 'fusioncam' ? progressLine(`${stem} fusion-cam region map`) : methodById(m)!.needs.forwardPasses ? progressLine(`${stem} ${m}`) : null;
          const r = await computeMap(session, m, {
            classIndex: c,
            variant,
            regionVariant,
            gradientMethod,
            regionMethod,
            theta,
            tau,
            weights: params.weights,
            batchSize,
            remoteScores: remote?.scores,
            onProgress: (p) => {
              remote?.progress(p.done, p.total);
              progress?.(p.done, p.total);
            },
          });
          maps[m] = r.map;
          details[m] = r.details;
          timings[m] = performance.now() - t;
          if (remote) {
            workerPasses[m] = remote.passes;
            (details[m] as Record<string, unknown>).workerPasses = remote.passes;
          }
        }
        for (const [m, map] of Object.entries(maps)) {
          await fs.writeFile(path.join(outDir, `${stem}.${m}.f32`), f32Bytes(map));
          // overlay at the photo's own resolution
          const up = resizeBilinear(map, H, W, img.height, img.width);
          const rgba = new Uint8Array(img.width * img.height * 4);
          overlayRgba(img.data, img.channels, up, img.width, img.height, colormap, opacity, rgba);
          await fs.writeFile(path.join(outDir, `${stem}.${m}.png`), encodePng(img.width, img.height, rgba));
        }
        if (a['save-input']) {
          await fs.writeFile(path.join(outDir, `${stem}.input.f32`), f32Bytes(input));
          const rgba = new Uint8Array(W * H * 4);
          for (let i = 0; i < W * H; i++) {
            rgba[i * 4] = rgb[i * 3];
            rgba[i * 4 + 1] = rgb[i * 3 + 1];
            rgba[i * 4 + 2] = rgb[i * 3 + 2];
            rgba[i * 4 + 3] = 255;
          }
          await fs.writeFile(path.join(outDir, `${stem}.input.png`), encodePng(W, H, rgba));
        }
        timings.total = performance.now() - t0;
        const report = {
          image: path.resolve(file),
          imageSize: [img.width, img.height],
          resize,
          model: { id: camModel.descriptor.id, name: camModel.name, url: camModel.descriptor.url, inputSize: camModel.inputSize, preprocessing: camModel.descriptor.preprocessing.id, stopsBeforeSoftmax: camModel.stopsBeforeSoftmax },
          layer: { name: session.split.layer.name, shape: session.split.layer.shape },
          backend,
          workers: helpers ? workers : 1,
          class: { index: c, name: camModel.label(c), probability: session.probabilities[c], logit: session.logits[c], predicted: classIndex === undefined },
          top5: session.topK(5),
          methods: details,
          mapFiles: Object.fromEntries(Object.keys(maps).map((m) => [m, { f32: `${stem}.${m}.f32`, png: `${stem}.${m}.png`, shape: [H, W], dtype: 'float32-le' }])),
          forwardPasses: session.forwardPasses,
          timingsMs: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v * 10) / 10])),
        };
        await fs.writeFile(path.join(outDir, `${stem}.json`), JSON.stringify(report, null, 2));
        process.stdout.write(`${stem}: ${camModel.label(c)} (${(session.probabilities[c] * 100).toFixed(1)} %) · ${methods.map((m) => `${m} ${(timings[m] / 1000).toFixed(2)} s${workerPasses[m] ? ` (${workerPasses[m]} on ${helpers!.others})` : ''}`).join(' · ')} → ${outDir}\n`);
      } finally {
        session.dispose();
      }
    }
    camModel.dispose();
    if (process.env.FUSION_CAM_DEBUG) process.stderr.write(`tensors left: ${tf.memory().numTensors}\n`);
    return 0;
  } catch (e) {
    return reportError(e, EXPLAIN_USAGE);
  } finally {
    await Promise.all([helpers?.stop(), early?.stop()]);
  }
}
