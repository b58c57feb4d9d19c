/** `fusion-cam explain`: maps, β values and overlays for each image, written to a folder. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs-core';
import { CamError } from '../engine/errors';
import { toModelInput, type ResizeMethod } from '../engine/image';
import { resizeBilinear } from '../engine/maps';
import { GRADIENT_METHODS, type GradientMethodId } from '../engine/methods/gradient';
import { REGION_METHODS } from '../engine/methods/registry';
import type { RegionMethodId, RegionVariant } from '../engine/methods/region';
import { overlayRgba } from '../engine/render';
import { COLORMAP_IDS, type ColormapId } from '../engine/colormaps';
import { ExplanationSession } from '../engine/session';
import type { FusionParams } from '../engine/fusion';
import { readImageFile } from '../node/files';
import { initBackend, listArg, listImages, loadCamModel, numberArg, parseCli, progressLine, reportError, stemOf, UsageError, workersArg } from './common';
import { EXPLAIN_USAGE } from './usage';
import { CliScoreWorkers, usesScoreCam } from './workers';

export { EXPLAIN_USAGE };

const OPTIONS = {
  model: { type: 'string' },
  image: { type: 'string', multiple: true },
  layer: { type: 'string' },
  class: { type: 'string' },
  methods: { type: 'string' },
  variant: { type: 'string' },
  'region-variant': { type: 'string' },
  /** the old name of --region-variant, still accepted */
  'scorecam-variant': { type: 'string' },
  'gradient-method': { type: 'string' },
  'region-method': { type: 'string' },
  theta: { type: 'string' },
  tau: { type: 'string' },
  'gradient-share': { type: 'string' },
  batch: { type: 'string' },
  backend: { type: 'string' },
  preprocessing: { type: 'string' },
  labels: { type: 'string' },
  resize: { type: 'string' },
  colormap: { type: 'string' },
  opacity: { type: 'string' },
  'save-input': { type: 'boolean' },
  workers: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function f32Bytes(map: Float32Array): Buffer {
  const b = Buffer.alloc(map.length * 4);
  for (let i = 0; i < map.length; i++) b.writeFloatLE(map[i], i * 4);
  return b;
}

/** `early`: worker threads main.ts started from the raw arguments (adopted if they fit, else stopped). */
export async function runExplain(argv: string[], early: CliScoreWorkers | null = null): Promise<number> {
  let helpers: CliScoreWorkers | null = null;
  try {
    const { values: a } = parseCli(argv, OPTIONS);
    if (a.help) {
      process.stdout.write(EXPLAIN_USAGE + '\n');
      return 0;
    }
    const variant = (a.variant ?? 'reference') as FusionParams['variant'];
    if (variant !== 'reference' && variant !== 'xplain') throw new UsageError(`--variant must be reference or xplain, got "${a.variant}"`);
    const regionVariant = (a['region-variant'] ?? a['scorecam-variant'] ?? variant) as RegionVariant;
    if (!['reference', 'xplain', 'original'].includes(regionVariant)) throw new UsageError(`--region-variant must be reference, xplain or original`);
    const gradientMethod = (a['gradient-method'] ?? 'gradcam') as GradientMethodId;
    if (!GRADIENT_METHODS[gradientMethod]) throw new UsageError(`--gradient-method must be one of ${Object.keys(GRADIENT_METHODS).join(', ')}`);
    const regionMethod = (a['region-method'] ?? 'scorecam') as RegionMethodId;
    if (!REGION_METHODS[regionMethod]) throw new UsageError(`--region-method must be one of ${Object.keys(REGION_METHODS).join(', ')}`);
    const known = [...Object.keys(GRADIENT_METHODS), ...Object.keys(REGION_METHODS), 'fusioncam'];
    const methods = listArg(a.methods, ['gradcam', 'scorecam', 'fusioncam']);
    for (const m of methods) if (!known.includes(m)) throw new UsageError(`Unknown method "${m}" (known: ${known.join(', ')})`);
    const theta = numberArg(a.theta, 'theta', 10, (v) => v >= 0 && v < 100, 'a percentile in [0, 100)');
    const tau = numberArg(a.tau, 'tau', 1, (v) => v > 0, 'a number above 0');
    const share = a['gradient-share'] === undefined ? undefined : numberArg(a['gradient-share'], 'gradient-share', 0.5, (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
    const batchSize = numberArg(a.batch, 'batch', 32, (v) => Number.isInteger(v) && v >= 1, 'a whole number ≥ 1');
    const opacity = numberArg(a.opacity, 'opacity', 0.5, (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
    const colormap = (a.colormap ?? 'turbo') as ColormapId;
    if (!COLORMAP_IDS.includes(colormap)) throw new UsageError(`--colormap must be one of ${COLORMAP_IDS.join(', ')}`);
    const resize = (a.resize ?? 'bilinear') as ResizeMethod;
    if (resize !== 'bilinear' && resize !== 'pillow') throw new UsageError(`--resize must be bilinear (TF.js resizeBilinear, the app's) or pillow (torchvision/PIL), got "${a.resize}"`);
    const classArg = a.class === undefined ? undefined : numberArg(a.class, 'class', 0, (v) => Number.isInteger(v) && v >= 0, 'a class index (a whole number ≥ 0)');
    const workers = workersArg(a.workers);
    const outDir = a.out ?? 'out';
    const images = await listImages(a.image ?? []);
    const backend = await initBackend(a.backend);
    // the worker threads load the model while this thread does
    if (workers > 1 && usesScoreCam(methods, regionMethod)) helpers = early?.matches(workers, a, backend) ? early : new CliScoreWorkers(workers, a, backend);
    const camModel = await loadCamModel(a, (s) => process.stderr.write(s + '\n'));
    if (classArg !== undefined && classArg >= camModel.numClasses) {
      throw new CamError(`Class index ${classArg} is out of range: the model has classes 0–${camModel.numClasses - 1}`, 'class-range');
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
        const c = classArg ?? session.predictedClass;
        const timings: Record<string, number> = { prepare: performance.now() - t0 };
        const maps: Record<string, Float32Array> = {};
        const details: Record<string, unknown> = {};
        /** Score-CAM passes run on the worker threads, per method. */
        const workerPasses: Record<string, number> = {};
        const [H, W] = camModel.inputSize;
        for (const m of methods) {
          const t = performance.now();
          // remoteScores for this method's Score-CAM run (if it runs one: a cached map costs nothing)
          const remote = m in GRADIENT_METHODS ? null : helpers?.run({ key: imageIndex, input, layer, classIndex: c, variant: regionVariant, batchSize }) ?? null;
          const shared = (progress: (done: number, total: number) => void) => ({
            batchSize,
            remoteScores: remote?.scores,
            onProgress: (p: { done: number; total: number }) => {
              remote?.progress(p.done, p.total);
              progress(p.done, p.total);
            },
          });
          if (m === 'fusioncam') {
            const progress = progressLine(`${stem} fusion-cam region map`);
            const f = await session.fusion(c, params, { gradientMethod, method: regionMethod, variant: regionVariant, ...shared(progress) });
            maps[m] = f.map;
            details[m] = {
              variant,
              gradientMethod,
              regionMethod,
              regionVariant: regionVariant,
              theta,
              tau,
              weights: params.weights,
              threshold: f.threshold,
              betas: f.betas,
              warnings: f.warnings,
            };
          } else if (m in GRADIENT_METHODS) {
            const g = await session.gradientMap(c, m as GradientMethodId, variant);
            maps[m] = g.map;
            details[m] = { allZero: g.allZero, warnings: g.warnings };
          } else {
            const progress = progressLine(`${stem} ${m}`);
            const r = await session.regionMap(c, { method: m as RegionMethodId, variant: regionVariant, ...shared(progress) });
            maps[m] = r.map;
            details[m] = { variant: regionVariant, forwardPasses: r.forwardPasses, constantChannels: r.constantChannels };
          }
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
          const png = new PNG({ width: img.width, height: img.height });
          overlayRgba(img.data, img.channels, up, img.width, img.height, colormap, opacity, png.data);
          await fs.writeFile(path.join(outDir, `${stem}.${m}.png`), PNG.sync.write(png));
        }
        if (a['save-input']) {
          await fs.writeFile(path.join(outDir, `${stem}.input.f32`), f32Bytes(input));
          const png = new PNG({ width: W, height: H });
          for (let i = 0; i < W * H; i++) {
            png.data[i * 4] = rgb[i * 3];
            png.data[i * 4 + 1] = rgb[i * 3 + 1];
            png.data[i * 4 + 2] = rgb[i * 3 + 2];
            png.data[i * 4 + 3] = 255;
          }
          await fs.writeFile(path.join(outDir, `${stem}.input.png`), PNG.sync.write(png));
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
          class: { index: c, name: camModel.label(c), probability: session.probabilities[c], logit: session.logits[c], predicted: classArg === undefined },
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
