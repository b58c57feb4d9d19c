/**
 * Node benchmark of the engine (wasm by default): forward passes, Grad-CAM, Score-CAM against its
 * forward-pass floor, Fusion-CAM, θ/τ latency and tensor growth, for MobileNet v1 0.25 and 0.75.
 * Prints JSON and writes bench/results-node.json. Measures, never judges.
 *
 *   npm run bench:node [-- --models mobilenet_v1_0.25_224,mobilenet_v1_0.75_224 --backend wasm --quick]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { args, flag, root, shared } from './benchArgs';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend, type NodeBackend } from '../src/node/backend';
import { loadLayersModelFromPathOrUrl, readImageFile } from '../src/node/files';
import { CamModel, PREPROCESSING, toModelInput } from '../src/engine/index';
import { benchEngine, stats, type EngineBenchResult, type Stats } from '../bench/measure';

const quick = args.includes('--quick');
const models = flag('models', 'mobilenet_v1_0.25_224,mobilenet_v1_0.75_224').split(',');
const backend = flag('backend', 'wasm') as NodeBackend;
const batchSizes = flag('batches', '1,8,16,32,64').split(',').map(Number);
const scoreCamBatch = Number(flag('batch', '0'));
const out = flag('out', path.join(root, 'bench/results-node.json'));
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

await initNodeBackend(backend);
const labels = JSON.parse(fs.readFileSync(path.join(shared, 'labels/imagenet_classes.json'), 'utf8')) as string[];
const image = await readImageFile(path.join(shared, 'images/photos/dog.jpg'));
const tfjsVersion = (JSON.parse(fs.readFileSync(path.join(root, 'node_modules/@tensorflow/tfjs-core/package.json'), 'utf8')) as { version: string }).version;

const results: { model: string; load: Stats; engine: EngineBenchResult }[] = [];
for (const id of models) {
  const dir = path.join(shared, 'models', id);
  log(`${id} on ${backend}`);
  const loadSamples: number[] = [];
  let cm: CamModel | undefined;
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    cm?.dispose();
    const t0 = performance.now();
    const m = await loadLayersModelFromPathOrUrl(dir);
    cm = new CamModel(m, { id, name: id, url: dir, preprocessing: PREPROCESSING.mobilenet, labels });
    loadSamples.push(performance.now() - t0);
  }
  const { input } = toModelInput(image, cm!.inputSize, PREPROCESSING.mobilenet);
  const small = id.includes('0.25');
  const engine = await benchEngine(cm!, input, {
    batchSizes,
    repeats: quick ? 3 : 10,
    heavyRepeats: quick ? 1 : small ? 5 : 2,
    variants: ['reference', 'xplain', 'original'],
    scoreCamBatch: scoreCamBatch || 16,
    leakRuns: quick ? 2 : small ? 20 : 2,
    layerPath: true,
    log,
    cpuTime: () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    },
  });
  results.push({ model: id, load: stats(loadSamples), engine });
  cm!.dispose();
}

const cpus = os.cpus();
const report = {
  kind: 'node',
  date: new Date().toISOString(),
  machine: { os: `${os.type()} ${os.release()} ${os.arch()}`, cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGB: Math.round(os.totalmem() / 2 ** 30) },
  node: process.version,
  tfjs: tfjsVersion,
  backend: tf.getBackend(),
  image: 'photos/dog.jpg',
  results,
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
log(`wrote ${path.relative(process.cwd(), out)}`);
