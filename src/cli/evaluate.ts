/**
 * `fusion-cam evaluate`: the authors' faithfulness protocol over a folder of images. For each
 * image and method: the map, Average Drop / Increase terms, Deletion and Insertion AUC (docs/method.md §5),
 * and, when boxes are known, the pointing game and energy-based pointing game. Rows go to CSV and
 * JSON as each image finishes (a long run that stops keeps what it has), and a summary table in
 * the layout of the authors' published table is printed at the end.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CamError } from '../engine/errors';
import { toModelInput } from '../engine/image';
import { methodById, METHODS, methodFamiliesText } from '../engine/methods/registry';
import { computeMap } from '../engine/computeMap';
import { ExplanationSession } from '../engine/session';
import type { FusionParams } from '../engine/fusion';
import { FaithfulnessEvaluator } from '../engine/metrics/faithfulness';
import { csvLine, metricsRow, summarizeByMethod, type MetricsRow, type SummaryRow } from '../engine/metrics/summary';
import { boxesToInput, energyPointingGame, pointingGame, type Box } from '../engine/metrics/localization';
import { readImageFile } from '../node/files';
import { initBackend, listImages, loadCamModel, reportError, stemOf, UsageError } from './common';
import { countArg, METHOD_FLAGS, methodSettings, numberArg, parseFlags, resizeArg, workersArg, type FlagName } from './options';
import { CliScoreWorkers, usesScoreCam, WORKERS_USAGE } from './workers';
import { parseShard, SHARD_USAGE, takeShard, type ShardRecord } from './shard';

export const EVALUATE_USAGE = `usage: fusion-cam evaluate --model <folder|model.json|URL> --images <folder> [--labels labels.json]
  [--methods gradcam,scorecam,fusioncam] [--limit N] [--seed S] [--batch 32] [--out results.csv]
  [--class-source predicted|label] [--layer NAME] [--variant reference|xplain]
  [--region-variant reference|xplain|original] [--gradient-method gradcam] [--region-method scorecam]
  [--theta 10] [--tau 1] [--step 448] [--backend wasm|cpu] [--preprocessing …] [--class-names FILE] [--resize bilinear|pillow]
  [--resume] [--workers 2] [--shard K/N]
  Methods: ${methodFamiliesText()}. --labels is the dataset's ground truth
  (a JSON list, or {images: [...]}, of {file, label, width, height, boxes_xyxy}); a labels.json inside
  the images folder is used when --labels is not given. --class-names overrides the model's class names.
  Writes results.csv and results.json (same stem as --out) with one row per image and method;
  --resume keeps the images an earlier run with the same settings finished and does the rest.
  ${WORKERS_USAGE}
  ${SHARD_USAGE}`;

const FLAG_NAMES = [
  'model', 'images', 'labels', 'limit', 'seed', 'out', 'class-source', 'layer', ...METHOD_FLAGS, 'step', 'backend',
  'preprocessing', 'resize', 'class-names', 'resume', 'workers', 'shard', 'help',
] as const satisfies readonly FlagName[];

export interface GroundTruth {
  label?: number;
  width?: number;
  height?: number;
  boxes?: Box[];
}

/** Ground truth by file name from the dataset's labels.json. */
export function parseGroundTruth(text: string, source: string): Map<string, GroundTruth> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new CamError(`${source} is not valid JSON`, 'bad-labels');
  }
  const list = Array.isArray(j) ? j : (j as { images?: unknown })?.images;
  if (!Array.isArray(list)) throw new CamError(`${source} holds no list of images ({file, label, …} entries)`, 'bad-labels');
  const out = new Map<string, GroundTruth>();
  for (const e of list as Record<string, unknown>[]) {
    if (!e || typeof e.file !== 'string') throw new CamError(`${source}: an entry has no "file" name`, 'bad-labels');
    const gt: GroundTruth = {};
    if (e.label !== undefined) {
      if (!Number.isInteger(e.label)) throw new CamError(`${source}: the label of ${e.file} is not a class index`, 'bad-labels');
      gt.label = e.label as number;
    }
    if (typeof e.width === 'number' && typeof e.height === 'number') [gt.width, gt.height] = [e.width, e.height];
    if (Array.isArray(e.boxes_xyxy) && e.boxes_xyxy.length > 0) {
      gt.boxes = (e.boxes_xyxy as unknown[]).map((b) => {
        if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v))) {
          throw new CamError(`${source}: a box of ${e.file} is not [x0, y0, x1, y1]`, 'bad-labels');
        }
        return b as Box;
      });
    }
    out.set(path.basename(e.file), gt);
  }
  return out;
}

/** Seeded Fisher–Yates (mulberry32), so --seed picks the same subset on every machine. */
export function shuffled<T>(items: T[], seed: number): T[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A metrics row plus what only the CLI knows: ground truth, prediction and the pointing games. */
export interface ResultRow extends MetricsRow {
  classSource: 'predicted' | 'label';
  label: number | '';
  predicted: number;
  pointing: number | '';
  energyPointing: number | '';
}

export const CSV_COLUMNS: (keyof ResultRow)[] = [
  'image', 'method', 'model', 'layer', 'classIndex', 'className', 'classSource', 'label', 'predicted', 'probability',
  'maskedProbability', 'averageDrop', 'increase', 'deletionAuc', 'insertionAuc', 'pointing', 'energyPointing', 'mapMs', 'metricsMs',
];

/** Per-method means (shared with the app's batch evaluation). */
export const summarize: (rows: ResultRow[], methods: string[]) => SummaryRow[] = summarizeByMethod;

const METHOD_LABELS: Record<string, string> = Object.fromEntries(METHODS.map((m) => [m.id, m.label]));

/** The authors' table layout: method, model, Average Drop ↓, Increase ↑, Deletion ↓, Insertion ↑ (+ pointing). */
export function formatSummary(summary: SummaryRow[]): string {
  const boxes = summary.some((s) => s.pointing !== undefined);
  const head = ['Method', 'Model', 'N', 'Avg Drop ↓', 'Increase ↑', 'Deletion ↓', 'Insertion ↑', ...(boxes ? ['Pointing ↑', 'Energy PG ↑'] : [])];
  const body = summary.map((s) => [
    METHOD_LABELS[s.method] ?? s.method,
    s.model,
    String(s.images),
    s.averageDrop.toFixed(4),
    s.increase.toFixed(4),
    s.deletion.toFixed(4),
    s.insertion.toFixed(4),
    ...(boxes ? [s.pointing?.toFixed(4) ?? '–', s.energyPointing?.toFixed(4) ?? '–'] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Progress on stderr: a bar on a terminal, one line per image otherwise (logs). */
function progressBar(total: number): { update(done: number, detail: string): void; line(s: string): void } {
  const tty = process.stderr.isTTY;
  return {
    update(done, detail) {
      if (!tty) return;
      const width = 24;
      const fill = Math.round((width * done) / Math.max(1, total));
      process.stderr.write(`\r\x1b[K[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${detail}`.slice(0, (process.stderr.columns ?? 120) + 8));
    },
    line(s) {
      process.stderr.write(tty ? `\r\x1b[K${s}\n` : `${s}\n`);
    },
  };
}

/** `early`: worker threads main.ts started from the raw arguments (adopted if they fit, else stopped). */
export async function runEvaluate(argv: string[], early: CliScoreWorkers | null = null): Promise<number> {
  let helpers: CliScoreWorkers | null = null;
  try {
    const a = parseFlags(argv, FLAG_NAMES);
    if (a.help) {
      process.stdout.write(EVALUATE_USAGE + '\n');
      return 0;
    }
    if (!a.images) throw new UsageError('--images is required (a folder of images)');
    const { methods, variant, regionVariant, gradientMethod, regionMethod, theta, tau, batchSize } = methodSettings(a);
    const classSource = a['class-source'] ?? 'predicted';
    if (classSource !== 'predicted' && classSource !== 'label') throw new UsageError('--class-source must be predicted or label');
    const limit = a.limit === undefined ? Infinity : countArg(a.limit, 'limit', 0);
    const seed = a.seed === undefined ? undefined : numberArg(a.seed, 'seed', 0, Number.isInteger, 'a whole number');
    const resize = resizeArg(a.resize);
    const step = countArg(a.step, 'step', 448);
    const workers = workersArg(a.workers);
    const shardSpec = parseShard(a.shard);
    const outCsv = a.out ?? 'results.csv';
    const outJson = outCsv.replace(/\.csv$/i, '') + '.json';

    const st = await fs.stat(a.images).catch(() => null);
    if (!st?.isDirectory()) throw new CamError(`--images must be a folder of images: ${a.images}`, 'not-found');
    let labelsFile = a.labels;
    if (!labelsFile) {
      const beside = path.join(a.images, 'labels.json');
      if (await fs.stat(beside).catch(() => null)) labelsFile = beside;
    }
    let truth = new Map<string, GroundTruth>();
    if (labelsFile) {
      const text = await fs.readFile(labelsFile, 'utf8').catch(() => {
        throw new CamError(`Labels file not found: ${labelsFile}`, 'not-found');
      });
      truth = parseGroundTruth(text, labelsFile);
    }
    let files = await listImages([a.images]);
    if (seed !== undefined) files = shuffled(files, seed);
    files = files.slice(0, limit);
    let shard: ShardRecord | null = null;
    if (shardSpec) ({ files, record: shard } = takeShard(files, shardSpec));
    if (classSource === 'label') {
      const missing = files.filter((f) => truth.get(path.basename(f))?.label === undefined);
      if (missing.length > 0) throw new CamError(`--class-source label needs a label for every image; ${path.basename(missing[0])}${missing.length > 1 ? ` and ${missing.length - 1} more` : ''} have none`, 'bad-labels');
    }

    const backend = await initBackend(a.backend);
    const modelArgs = { model: a.model, preprocessing: a.preprocessing, labels: a['class-names'] };
    // the worker threads load the model while this thread does
    if (workers > 1 && usesScoreCam(methods, regionMethod)) helpers = early?.matches(workers, modelArgs, backend) ? early : new CliScoreWorkers(workers, modelArgs, backend);
    const camModel = await loadCamModel(modelArgs, (s) => process.stderr.write(s + '\n'));
    const layer = a.layer ?? camModel.defaultLayer();
    camModel.split(layer); // fail early on a bad layer
    helpers?.arm();
    const params: FusionParams = { theta, tau, variant, weights: { mode: 'auto' } };
    const modelId = camModel.descriptor.id;
    await fs.mkdir(path.dirname(path.resolve(outCsv)), { recursive: true });
    let rows: ResultRow[] = [];
    let curves: { image: string; method: string; deletion: number[]; insertion: number[] }[] = [];
    const failures: { image: string; error: string }[] = [];
    const done = new Set<string>();
    if (a.resume) {
      // keep the finished images of an earlier run with the same settings (a long run can be continued)
      const prev = await fs.readFile(outJson, 'utf8').then((t) => JSON.parse(t) as { settings?: Record<string, unknown>; rows?: ResultRow[]; curves?: typeof curves }, () => undefined);
      if (prev?.rows) {
        for (const key of ['model', 'layer', 'variant', 'scoreCamVariant', 'gradientMethod', 'regionMethod', 'theta', 'tau', 'step', 'classSource', 'resize'] as const) {
          const was = prev.settings?.[key];
          const now = { model: modelId, layer, variant, scoreCamVariant: regionVariant, gradientMethod, regionMethod, theta, tau, step, classSource, resize }[key];
          if (was !== undefined && was !== now) throw new UsageError(`--resume: ${outJson} was made with ${key} = ${String(was)}, this run has ${String(now)}`);
        }
        const wasShard = prev.settings?.shard as ShardRecord | undefined;
        if ((wasShard?.listHash ?? null) !== (shard?.listHash ?? null) || (wasShard && `${wasShard.index}/${wasShard.count}` !== `${shard!.index}/${shard!.count}`)) {
          throw new UsageError(`--resume: ${outJson} was made with another --shard or image list`);
        }
        const perImage = new Map<string, Set<string>>();
        for (const r of prev.rows) perImage.set(r.image, (perImage.get(r.image) ?? new Set()).add(r.method));
        for (const [img, ms] of perImage) if (methods.every((m) => ms.has(m))) done.add(img);
        rows = prev.rows.filter((r) => done.has(r.image) && methods.includes(r.method));
        curves = (prev.curves ?? []).filter((c) => done.has(c.image) && methods.includes(c.method));
        process.stderr.write(`resuming: ${done.size} image(s) already done in ${outJson}\n`);
      }
    }
    await fs.writeFile(outCsv, CSV_COLUMNS.join(',') + '\n' + rows.map((r) => csvLine(r, CSV_COLUMNS) + '\n').join(''));
    const bar = progressBar(files.length);
    const settings = { model: modelId, modelUrl: camModel.descriptor.url, layer, backend, workers: helpers ? workers : 1, resize, methods, variant, scoreCamVariant: regionVariant, gradientMethod, regionMethod, theta, tau, step, batchSize, classSource, labels: labelsFile ?? null, limit: Number.isFinite(limit) ? limit : null, seed: seed ?? null, ...(shard ? { shard } : {}) };
    const writeJson = () =>
      fs.writeFile(outJson, JSON.stringify({ settings, summary: summarize(rows, methods), rows, curves, failures }, null, 1));
    const t0 = performance.now();

    for (const [i, file] of files.entries()) {
      const name = path.basename(file);
      const stem = stemOf(file);
      const gt = truth.get(name);
      if (done.has(name)) continue;
      const tImage = performance.now();
      let session: ExplanationSession | undefined;
      let ev: FaithfulnessEvaluator | undefined;
      try {
        const img = await readImageFile(file);
        const { input } = toModelInput(img, camModel.inputSize, camModel.descriptor.preprocessing, resize);
        session = await ExplanationSession.create(camModel, input, layer);
        const predicted = session.predictedClass;
        const c = classSource === 'label' ? gt!.label! : predicted;
        session.checkClass(c);
        ev = FaithfulnessEvaluator.create((x) => camModel.logits(x), session.x, c, { step, batchSize });
        const boxes = gt?.boxes ? boxesToInput(gt.boxes, gt.width ?? img.width, gt.height ?? img.height, camModel.inputSize) : undefined;
        const imageRows: ResultRow[] = [];
        let workerPasses = 0;
        for (const m of methods) {
          const tm = performance.now();
          // remoteScores for this method's Score-CAM run (if it runs one: a cached map costs nothing)
          const remote = methodById(m)!.needs.forwardPasses ? helpers?.run({ key: i, input, layer, classIndex: c, variant: regionVariant, batchSize }) ?? null : null;
          const onProgress = (p: { done: number; total: number }) => {
            remote?.progress(p.done, p.total);
            bar.update(i, `${stem} ${m} ${p.done}/${p.total}`);
          };
          bar.update(i, `${stem} ${m}`);
          const { map } = await computeMap(session, m, { classIndex: c, variant, regionVariant, gradientMethod, regionMethod, theta, tau, weights: params.weights, batchSize, onProgress, remoteScores: remote?.scores });
          const mapMs = performance.now() - tm;
          workerPasses += remote?.passes ?? 0;
          const tq = performance.now();
          const r = await ev.evaluate(map, { onProgress: (p) => bar.update(i, `${stem} ${m} metrics ${p.done}/${p.total}`) });
          imageRows.push({
            ...metricsRow({ image: name, method: m, model: modelId, layer, classIndex: c, className: camModel.label(c) }, r, { map: mapMs, metrics: performance.now() - tq }),
            classSource,
            label: gt?.label ?? '',
            predicted,
            pointing: boxes ? pointingGame(map, boxes, camModel.inputSize) : '',
            energyPointing: boxes ? energyPointingGame(map, boxes, camModel.inputSize) : '',
          });
          curves.push({ image: name, method: m, deletion: Array.from(r.deletion.scores), insertion: Array.from(r.insertion.scores) });
        }
        rows.push(...imageRows);
        await fs.appendFile(outCsv, imageRows.map((r) => csvLine(r, CSV_COLUMNS) + '\n').join(''));
        const secs = (performance.now() - tImage) / 1000;
        bar.line(`[${i + 1}/${files.length}] ${stem}: class ${c} ${camModel.label(c)} · ${imageRows.map((r) => `${r.method} del ${r.deletionAuc.toFixed(3)} ins ${r.insertionAuc.toFixed(3)}`).join(' · ')} · ${secs.toFixed(1)} s${workerPasses ? ` (${workerPasses} Score-CAM passes on ${helpers!.others})` : ''}`);
      } catch (e) {
        // one bad image does not end the run; it is reported and listed in the JSON
        const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
        failures.push({ image: name, error: msg });
        bar.line(`[${i + 1}/${files.length}] ${stem}: skipped: ${msg}`);
      } finally {
        ev?.dispose();
        session?.dispose();
      }
      await writeJson();
    }
    bar.update(files.length, 'done');
    const summary = summarize(rows, methods);
    const minutes = (performance.now() - t0) / 60000;
    process.stderr.write(`\n${rows.length / methods.length} images × ${methods.length} methods in ${minutes.toFixed(1)} min (${backend}${helpers ? `, ${workers} workers` : ''}); rows: ${outCsv}, ${outJson}${failures.length ? `; ${failures.length} image(s) skipped` : ''}\n`);
    process.stdout.write(formatSummary(summary) + '\n');
    camModel.dispose();
    if (process.env.FUSION_CAM_DEBUG) process.stderr.write(`tensors left: ${tf.memory().numTensors}\n`);
    return failures.length > 0 && rows.length === 0 ? 1 : 0;
  } catch (e) {
    return reportError(e, EVALUATE_USAGE);
  } finally {
    await Promise.all([helpers?.stop(), early?.stop()]);
  }
}
