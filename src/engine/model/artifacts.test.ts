/** Loading failures: each broken model gives one message that names the problem. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initNodeBackend } from '../../node/backend';
import { CamError } from '../errors';
import { loadLayersModelFrom, validateModelJson } from './artifacts';
import { resNetLike, saveModelToDir } from './testing/generatedNets';

const SHARED = process.env.FUSION_CAM_SHARED ?? path.resolve(__dirname, '../../../../shared');

let tmp: string;
let modelJson: { weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[]; modelTopology: Record<string, unknown> };
let shard: ArrayBuffer;
beforeAll(async () => {
  await initNodeBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'fcam-art-'));
  const m = resNetLike({ classes: 3 });
  await saveModelToDir(m, tmp);
  m.dispose();
  modelJson = JSON.parse(await fs.readFile(path.join(tmp, 'model.json'), 'utf8'));
  const b = await fs.readFile(path.join(tmp, 'group1-shard1of1.bin'));
  shard = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const clone = () => JSON.parse(JSON.stringify(modelJson)) as typeof modelJson;
async function failure(json: unknown, read: (p: string) => Promise<ArrayBuffer> = async () => shard): Promise<CamError> {
  const before = tf.memory().numTensors;
  const e = await loadLayersModelFrom(json, read).then(
    (m) => {
      m.dispose();
      return undefined;
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CamError);
  expect((e as Error).message).not.toContain('\n');
  expect(tf.memory().numTensors).toBe(before);
  return e as CamError;
}

describe('model.json validation', () => {
  it('rejects what is not a TF.js LayersModel, saying what it is', async () => {
    expect(() => validateModelJson([1, 2])).toThrow('model.json is not a JSON object, so it is not a TF.js model.json');
    expect(() => validateModelJson({ name: 'x' })).toThrow('model.json has no "modelTopology": it is not a TF.js model');
    expect(() => validateModelJson({ modelTopology: { foo: 1 }, weightsManifest: [] })).toThrow(/not a Keras model config/);
    expect(() => validateModelJson({ modelTopology: modelJson.modelTopology })).toThrow(/has no "weightsManifest"/);
    const graph = JSON.parse(await fs.readFile(path.join(SHARED, 'models/mobilenet_v1_0.25_224_graph/model.json'), 'utf8'));
    const e = (() => {
      try {
        validateModelJson(graph);
      } catch (x) {
        return x as CamError;
      }
    })();
    expect(e?.code).toBe('graph-model');
    expect(e?.message).toMatch(/is a TF\.js GraphModel; this needs a LayersModel/);
  });

  it('refuses weight paths outside the model folder and malformed shapes', () => {
    const j = clone();
    j.weightsManifest[0].paths = ['../../etc/passwd'];
    expect(() => validateModelJson(j)).toThrow('model.json names a weight file outside its folder: "../../etc/passwd"');
    const k = clone();
    k.weightsManifest[0].weights[0].shape = [3, -1];
    expect(() => validateModelJson(k)).toThrow(`model.json has a malformed weight spec ("${k.weightsManifest[0].weights[0].name}")`);
  });
});

describe('weights that do not fit', () => {
  it('a truncated shard', async () => {
    const e = await failure(modelJson, async () => shard.slice(0, shard.byteLength - 100));
    expect(e.code).toBe('bad-shard');
    expect(e.message).toBe(`Weight file "group1-shard1of1.bin" holds ${shard.byteLength - 100} bytes but the manifest's shapes need ${shard.byteLength}: truncated (an interrupted download?)`);
  });

  it('a shard that is too large', async () => {
    const big = new Uint8Array(shard.byteLength + 8);
    big.set(new Uint8Array(shard));
    const e = await failure(modelJson, async () => big.buffer);
    expect(e.message).toMatch(/holds \d+ bytes but the manifest's shapes need \d+: larger than described/);
  });

  it('a missing shard', async () => {
    const e = await failure(modelJson, async (p) => {
      throw new Error(`ENOENT ${p}`);
    });
    expect(e.code).toBe('missing-shard');
    expect(e.message).toBe('Weight file "group1-shard1of1.bin" could not be read: ENOENT group1-shard1of1.bin');
  });

  it('a manifest whose shapes do not match the model (same byte count)', async () => {
    const j = clone();
    const spec = j.weightsManifest[0].weights[0];
    const wrong = [...spec.shape].reverse();
    spec.shape = wrong;
    const e = await failure(j);
    expect(e.code).toBe('weights-mismatch');
    expect(e.message).toBe(`model.json: the manifest's shapes do not match the model: weight "conv1/kernel" is [${wrong.join(', ')}] in the manifest but the layer needs [3, 3, 3, 8]`);
  });

  it('weights named for another model', async () => {
    const j = clone();
    j.weightsManifest[0].weights[0].name = 'other_net/conv/kernel';
    const e = await failure(j);
    expect(e.message).toBe('model.json: the model needs weight "conv1/kernel" [3, 3, 3, 8] but the manifest does not list it (weights from another model?)');
  });

  it('a topology that cannot be built', async () => {
    const j = clone();
    const layers = (j.modelTopology.config as { layers: { name: string; config: { filters?: number } }[] }).layers;
    layers.find((l) => l.name === 'res1_conv2')!.config.filters = 4;
    const e = await failure(j);
    expect(e.message).toMatch(/^model\.json: /);
  });
});
