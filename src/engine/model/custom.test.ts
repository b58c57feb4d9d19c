import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initNodeBackend } from '../../node/backend';
import { CamError } from '../errors';
import { checkLabelCount, guessPreprocessing, loadCustomModel, parseLabels, type ModelFile } from './custom';
import { PREPROCESSING } from './descriptor';
import { mobileNetV2Like, resNetLike, saveModelToDir } from './testing/generatedNets';

const SHARED = process.env.FUSION_CAM_SHARED ?? path.resolve(__dirname, '../../../../shared');

const textFile = (name: string, text: string): ModelFile => ({ name, arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer });
async function dirFiles(dir: string, prefix = ''): Promise<ModelFile[]> {
  const names = await fs.readdir(dir);
  return names.map((n) => ({
    name: prefix + n,
    arrayBuffer: async () => {
      const b = await fs.readFile(path.join(dir, n));
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  }));
}
const readJson = async (p: string): Promise<unknown> => JSON.parse(await fs.readFile(p, 'utf8'));

describe('parseLabels', () => {
  it('reads a JSON array, an {index: name} object, Keras class_index and text lines', () => {
    expect(parseLabels('["cat", "dog"]')).toEqual(['cat', 'dog']);
    expect(parseLabels('{"1": "dog", "0": "cat"}')).toEqual(['cat', 'dog']);
    expect(parseLabels('{"0": ["n02123045", "tabby"], "1": ["n02085620", "Chihuahua"]}')).toEqual(['tabby', 'Chihuahua']);
    expect(parseLabels('\uFEFFcat\r\ndog\r\n\r\n')).toEqual(['cat', 'dog']);
    expect(parseLabels('  tench, Tinca tinca \ngoldfish\n')).toEqual(['tench, Tinca tinca', 'goldfish']);
  });

  it('keeps markup as plain text (the UI renders it as text, never as HTML)', () => {
    const evil = '<img src=x onerror="alert(1)">';
    expect(parseLabels(JSON.stringify([evil, 'b&amp;']))).toEqual([evil, 'b&amp;']);
    expect(parseLabels(`${evil}\nok`)).toEqual([evil, 'ok']);
  });

  it('rejects broken files with a message naming the file and the problem', () => {
    expect(() => parseLabels('', 'labels.txt')).toThrow(/labels\.txt is empty/);
    expect(() => parseLabels('["a", ', 'labels.json')).toThrow(/labels\.json looks like JSON but does not parse/);
    expect(() => parseLabels('[1, {"a": 2}]', 'l.json')).toThrow(/entry 1 is not a name/);
    expect(() => parseLabels('{"0": "a", "2": "b"}', 'l.json')).toThrow(/key "2" is not a class index 0–1/);
    expect(() => parseLabels('a\n\nb', 'l.txt')).toThrow(/line 2 is empty/);
  });

  it('checkLabelCount says how many names and outputs there are, with a background hint', () => {
    expect(() => checkLabelCount(['a', 'b'], 2)).not.toThrow();
    expect(() => checkLabelCount(new Array(1000).fill('x'), 1001, 'labels.txt')).toThrow('labels.txt has 1000 names but the model has 1001 outputs (the model may have an extra "background" class at index 0)');
    expect(() => checkLabelCount(['a'], 5, 'l.txt')).toThrow(/^l\.txt has 1 names but the model has 5 outputs$/);
  });
});

describe('guessPreprocessing', () => {
  beforeAll(async () => {
    await initNodeBackend('cpu');
  });

  it('says MobileNet v1 is RGB/127.5 − 1 and Darknet-tiny is RGB/255, always flagged as a guess', async () => {
    const mn = guessPreprocessing(await readJson(path.join(SHARED, 'models/mobilenet_v1_0.25_224/model.json')));
    expect(mn).toMatchObject({ preprocessing: PREPROCESSING.mobilenet, guessed: true });
    expect(mn.reason).toMatch(/MobileNet/);
    const dk = guessPreprocessing(await readJson(path.join(SHARED, 'models/darknet_tiny/model.json')));
    expect(dk).toMatchObject({ preprocessing: PREPROCESSING.unit, guessed: true });
    expect(dk.reason).toMatch(/Darknet/);
  });

  it('recognises MobileNetV2 names, a built-in Rescaling layer, and admits when it does not know', async () => {
    const topo = (m: tfl.LayersModel) => ({ modelTopology: m.toJSON(undefined, false), weightsManifest: [] });
    const v2 = mobileNetV2Like();
    expect(guessPreprocessing(topo(v2)).preprocessing).toBe(PREPROCESSING.mobilenet);
    const rn = resNetLike();
    const g = guessPreprocessing(topo(rn));
    expect(g.preprocessing).toBe(PREPROCESSING.unit);
    expect(g.reason).toMatch(/not one we recognise/);
    const input = tfl.input({ shape: [8, 8, 3] });
    const scaled = tfl.layers.rescaling({ scale: 1 / 255 }).apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(tfl.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(scaled) as tfl.SymbolicTensor)) as tfl.SymbolicTensor;
    const withRescale = tfl.model({ inputs: input, outputs: out });
    expect(guessPreprocessing(topo(withRescale)).preprocessing).toBe(PREPROCESSING.raw);
    [v2, rn, withRescale].forEach((m) => m.dispose());
  });
});

describe('loadCustomModel', () => {
  let tmp: string;
  let resnetDir: string;
  beforeAll(async () => {
    await initNodeBackend('cpu');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'fcam-custom-'));
    resnetDir = path.join(tmp, 'my_resnet');
    const m = resNetLike({ head: 'dense-softmax', classes: 3 });
    await saveModelToDir(m, resnetDir);
    m.dispose();
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('builds a descriptor from a dropped folder: input size, guessed preprocessing, default layer, labels', async () => {
    const before = tf.memory().numTensors;
    const files = [...(await dirFiles(resnetDir, 'my_resnet/')), textFile('my_resnet/labels.txt', 'cat\ndog\n<b>bird</b>\n')];
    const r = await loadCustomModel(files);
    expect(r.descriptor.name).toBe('my_resnet');
    expect(r.camModel.inputSize).toEqual([32, 32]);
    expect(r.descriptor.defaultLayer).toBe('res3_out');
    expect(r.descriptor.output).toBe('probabilities');
    expect(r.descriptor.labels).toEqual(['cat', 'dog', '<b>bird</b>']);
    expect(r.labelsFile).toBe('my_resnet/labels.txt');
    expect(r.guess?.guessed).toBe(true);
    expect(r.descriptor.preprocessing).toBe(PREPROCESSING.unit);
    r.camModel.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a model.json holding garbage is named as such, not reported as missing (issue 14, defect 9)', async () => {
    const msg = async (files: ModelFile[]) => (await loadCustomModel(files).then(() => null, (e: Error) => e)) as CamError;
    const garbage = await msg([textFile('m/model.json', '\u0000\u0001 not json {'), textFile('m/group1-shard1of1.bin', 'x')]);
    expect(garbage.message).toBe('model.json is not a TF.js model: the file is not valid JSON (damaged, or another kind of file renamed)');
    expect(garbage.message).not.toMatch(/No model\.json/);
    const noTopology = await msg([textFile('model.json', '{"format": "layers-model"}')]);
    expect(noTopology.message).toMatch(/^model\.json is not a TF\.js model: the JSON has no "modelTopology"/);
    // another JSON file alone: model.json really is missing
    expect((await msg([textFile('labels.json', '["a"]')])).message).toMatch(/^No model\.json among the files \(labels\.json is not a TF\.js model\.json\)/);
  });

  it('uses the preprocessing the user chose instead of guessing', async () => {
    const r = await loadCustomModel(await dirFiles(resnetDir), { preprocessing: PREPROCESSING.imagenet, name: 'Mine' });
    expect(r.guess).toBeUndefined();
    expect(r.descriptor.preprocessing).toBe(PREPROCESSING.imagenet);
    expect(r.descriptor.name).toBe('Mine');
    expect(r.descriptor.labels).toBeUndefined();
    r.camModel.dispose();
  });

  it('loads the shared MobileNet folder with ImageNet names as a drop-in', async () => {
    const dir = path.join(SHARED, 'models/mobilenet_v1_0.25_224');
    const labels = await fs.readFile(path.join(SHARED, 'labels/imagenet_classes.json'), 'utf8');
    const r = await loadCustomModel([...(await dirFiles(dir)), textFile('imagenet_classes.json', labels)]);
    expect(r.descriptor.preprocessing).toBe(PREPROCESSING.mobilenet);
    expect(r.descriptor.defaultLayer).toBe('conv_pw_13_relu');
    expect(r.camModel.numClasses).toBe(1000);
    expect(r.descriptor.labels?.[208]).toBe('Labrador retriever');
    r.camModel.dispose();
  });

  it('gives one clear message for each way a drop can be wrong, and frees the model', async () => {
    const before = tf.memory().numTensors;
    const files = await dirFiles(resnetDir);
    const err = async (p: Promise<unknown>): Promise<CamError> => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(CamError);
      return e as CamError;
    };
    expect((await err(loadCustomModel([...files, textFile('labels.txt', 'a\nb\nc\nd\ne')]))).message).toBe('labels.txt has 5 names but the model has 3 outputs');
    expect((await err(loadCustomModel(files.filter((f) => f.name !== 'model.json')))).message).toMatch(/No model\.json among the files/);
    // issue 14, defect 9: a model.json that is not one is named, not reported as missing
    expect((await err(loadCustomModel([textFile('model.json', '{"hello": 1}')]))).message).toMatch(/^model\.json is not a TF\.js model: the JSON has no "modelTopology"/);
    expect((await err(loadCustomModel(files.filter((f) => f.name === 'model.json')))).message).toMatch(/Weight file "group1-shard1of1\.bin" could not be read: it is missing/);
    expect((await err(loadCustomModel([]))).message).toMatch(/No files were given/);
    expect((await err(loadCustomModel([...files, textFile('a.txt', 'x'), textFile('b.txt', 'y')]))).message).toMatch(/Several possible labels files/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
