/**
 * The CLI's Score-CAM worker threads (scoreWorkers.ts + scoreWorker.ts, started through tsx):
 * maps with a second engine equal the one-engine maps exactly, a worker that dies mid-run or
 * cannot start changes nothing but the speed, the main thread leaks no tensor, and the CLI
 * (bin/fusion-cam.js, a child process) uses the worker and exits when done.
 * Model: mobilenet_v1_0.25_224 from ../shared (FUSION_CAM_SHARED overrides ../shared).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-utils/runProcess';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { ExplainableModel } from '../engine/model/explainable';
import type { RegionResult, RegionVariant } from '../engine/methods/region';
import { toModelInput } from '../engine/image';
import { ExplanationSession } from '../engine/session';
import { loadCamModel } from '../cli/common';
import { initNodeBackend } from './backend';
import { readImageFile } from './files';
import { ScoreWorkers } from './scoreWorkers';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = path.resolve(process.env.FUSION_CAM_SHARED ?? path.join(ROOT, '../shared'));
const MODEL = path.join(SHARED, 'models', 'mobilenet_v1_0.25_224');
const PHOTOS = path.join(SHARED, 'images', 'photos');

let model: ExplainableModel;
let input: Float32Array;
let pool: ScoreWorkers;
const notes: string[] = [];
/** A worker given a model path that does not exist (started early: its start-up overlaps the others'). */
let broken: ScoreWorkers;
const brokenNotes: string[] = [];
let key = 0;

beforeAll(async () => {
  // the worker loads its model while this thread loads its own, as in the CLI
  pool = ScoreWorkers.start(1, { backend: 'wasm', model: { model: MODEL } }, (s) => notes.push(s))!;
  broken = ScoreWorkers.start(1, { backend: 'wasm', model: { model: path.join(os.tmpdir(), 'no-such-model-here') } }, (s) => brokenNotes.push(s))!;
  await initNodeBackend('wasm');
  model = await loadCamModel({ model: MODEL });
  const img = await readImageFile(path.join(PHOTOS, 'dog.jpg'));
  input = toModelInput(img, model.inputSize, model.descriptor.preprocessing, 'bilinear').input;
  // the tests below want the worker's share to be non-empty: wait until it holds the model
  for (let i = 0; i < 600 && pool.ready === 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(pool.ready).toBe(1);
});

afterAll(async () => {
  await pool?.stop();
  await broken?.stop();
  model?.dispose();
});

/** One-engine Score-CAM results, computed once per (layer, variant, batch). */
const oneEngine = new Map<string, Promise<{ c: number; result: RegionResult }>>();
function oneEngineRun(layer: string, variant: RegionVariant, batchSize: number) {
  const k = `${layer}|${variant}|${batchSize}`;
  if (!oneEngine.has(k)) {
    oneEngine.set(k, (async () => {
      const session = await ExplanationSession.create(model, input, layer);
      const c = session.predictedClass;
      const result = await session.regionMap(c, { variant, batchSize });
      session.dispose();
      return { c, result };
    })());
  }
  return oneEngine.get(k)!;
}

/** The one-engine map, then the same run with the worker; both sessions disposed. */
async function bothWays(layer: string, variant: RegionVariant, batchSize: number, workers: ScoreWorkers, crashAfter?: number) {
  const { c, result: one } = await oneEngineRun(layer, variant, batchSize);

  const session2 = await ExplanationSession.create(model, input, layer);
  const remote = workers.run({ key: ++key, input, layer, classIndex: c, variant, batchSize });
  let calls = 0;
  const two = await session2.regionMap(c, {
    variant,
    batchSize,
    onProgress: (p) => remote.progress(p.done, p.total),
    remoteScores: (channels) => {
      const p = remote.scores(channels);
      if (++calls === crashAfter) workers.crashForTesting(0);
      return p;
    },
  });
  session2.dispose();
  return { one, two, passes: remote.passes, calls };
}

describe('Score-CAM with a second engine in a worker thread', () => {
  it('reference at the default layer (256 channels, batches of 32): the same map and scores, part of them from the worker', async () => {
    const before = tf.memory().numTensors;
    const { one, two, passes } = await bothWays(model.defaultLayer(), 'reference', 32, pool);
    expect(Array.from(two.map)).toEqual(Array.from(one.map));
    expect(Array.from(two.scores)).toEqual(Array.from(one.scores));
    expect(two.forwardPasses).toBe(one.forwardPasses);
    expect(passes).toBeGreaterThan(0);
    expect(two.info).toEqual({ remotePasses: passes });
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(['xplain', 'original'] as const)('%s at a 64-channel layer, batches of 8: the same map and scores', async (variant) => {
    const before = tf.memory().numTensors;
    const { one, two, passes } = await bothWays('conv_pw_5_relu', variant, 8, pool);
    expect(Array.from(two.map)).toEqual(Array.from(one.map));
    expect(Array.from(two.scores)).toEqual(Array.from(one.scores));
    expect(passes).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a worker still loading when the main thread runs out of work: its request is withdrawn, not waited for', async () => {
    const slow = ScoreWorkers.start(1, { backend: 'wasm', model: { model: MODEL } }, (s) => notes.push(s))!;
    const { one, two, passes, calls } = await bothWays('conv_pw_5_relu', 'xplain', 8, slow);
    // the run ended while the worker was still starting (it takes well over a second)
    expect(slow.ready).toBe(0);
    expect(calls).toBe(2); // the two batches the engine keeps in flight, both withdrawn
    expect(passes).toBe(0);
    expect(Array.from(two.map)).toEqual(Array.from(one.map));
    await slow.stop();
    expect(notes).toEqual([]);
  });

  it('a worker that cannot start (its model is missing): the map is the same, one line says why', async () => {
    const { one, two, passes } = await bothWays('conv_pw_5_relu', 'reference', 8, broken);
    expect(Array.from(two.map)).toEqual(Array.from(one.map));
    expect(passes).toBe(0);
    for (let i = 0; i < 600 && broken.live > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(brokenNotes).toEqual([expect.stringMatching(/^note: the second Score-CAM worker failed \(it could not start: Model not found: .*no-such-model-here\)/)]);
  });

  it('a worker that dies mid-run: the main thread scores its share, the map is the same, one line says so', async () => {
    const before = tf.memory().numTensors;
    // (the last test of the shared worker: it ends it)
    const dying = pool;
    // crash right after the second request is sent: its batch is lost with the thread
    const { one, two, calls } = await bothWays('conv_pw_5_relu', 'reference', 4, dying, 2);
    expect(calls).toBe(2);
    expect(Array.from(two.map)).toEqual(Array.from(one.map));
    expect(Array.from(two.scores)).toEqual(Array.from(one.scores));
    expect(two.forwardPasses).toBe(one.forwardPasses);
    expect(dying.live).toBe(0);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^note: the second Score-CAM worker failed \(it exited with code \d+\); its channels are scored on the main thread$/);
    // a later run on the dead pool: no remote work, same map
    const again = await bothWays('conv_pw_5_relu', 'xplain', 8, dying);
    expect(Array.from(again.two.map)).toEqual(Array.from(again.one.map));
    expect(again.passes).toBe(0);
    await dying.stop();
    expect(notes).toHaveLength(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fusion-cam explain --workers', () => {
  let tmp = '';
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'fusion-cam-workers-'));
  });
  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('2 workers: the maps of 1 worker, "(N on a second worker)" in the output, and the process exits', async () => {
    // two images: the second one's Score-CAM starts after the worker has surely loaded the model
    const out = path.join(tmp, 'two');
    const t0 = performance.now();
    const r = await runCli(['explain', '--model', MODEL, '--image', path.join(PHOTOS, 'kite.jpg'), '--image', path.join(PHOTOS, 'dog.jpg'), '--methods', 'scorecam', '--workers', '2', '--out', out], { timeout: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^dog: .*scorecam \d+\.\d\d s \(\d+ on a second worker\)/m);
    const report = JSON.parse(await fs.readFile(path.join(out, 'dog.json'), 'utf8'));
    expect(report.workers).toBe(2);
    expect(report.methods.scorecam.workerPasses).toBeGreaterThan(0);
    // the one-engine map of this thread (same model, image, layer, batch and preprocessing)
    const expected = (await oneEngineRun(model.defaultLayer(), 'reference', 32)).result.map;
    const b = await fs.readFile(path.join(out, 'dog.scorecam.f32'));
    expect(Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)))).toEqual(Array.from(expected));
    expect(performance.now() - t0).toBeLessThan(60_000);
  });
});
