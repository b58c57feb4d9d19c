/**
 * Small generated LayersModels of the shapes users bring (MobileNetV2-like inverted residuals,
 * ResNet-like identity/projection shortcuts, several head kinds), and a writer that saves a
 * model as model.json + one weight shard, exactly as tfjs' own `model.save('file://…')` does.
 * Test helpers only; kept out of the engine's public index.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CamModel } from '../camModel';
import { PREPROCESSING } from '../descriptor';

export type HeadKind = 'dense-softmax' | 'conv-softmax-reshape' | 'activation-softmax' | 'logits';

let seed = 1;
const nextSeed = (): number => seed++;

// Random but well-scaled weights, so activations neither vanish nor explode (docs/platform-notes.md note 12).
const kernelInit = (): ReturnType<typeof tfl.initializers.randomNormal> => tfl.initializers.varianceScaling({ scale: 2, mode: 'fanIn', distribution: 'normal', seed: nextSeed() });
const depthwiseInit = (): ReturnType<typeof tfl.initializers.randomNormal> => tfl.initializers.randomNormal({ mean: 0, stddev: Math.sqrt(2 / 9), seed: nextSeed() });

function bn(x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor {
  return tfl.layers
    .batchNormalization({
      name,
      gammaInitializer: tfl.initializers.randomUniform({ minval: 0.6, maxval: 1.4, seed: nextSeed() }),
      betaInitializer: tfl.initializers.randomNormal({ mean: 0.05, stddev: 0.1, seed: nextSeed() }),
      movingMeanInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 0.1, seed: nextSeed() }),
      movingVarianceInitializer: tfl.initializers.randomUniform({ minval: 0.6, maxval: 1.5, seed: nextSeed() }),
    })
    .apply(x) as tfl.SymbolicTensor;
}

function conv(x: tfl.SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string, useBias = false): tfl.SymbolicTensor {
  return tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias, name, kernelInitializer: kernelInit() }).apply(x) as tfl.SymbolicTensor;
}

const relu6 = (x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor => tfl.layers.reLU({ maxValue: 6, name }).apply(x) as tfl.SymbolicTensor;
const relu = (x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor => tfl.layers.activation({ activation: 'relu', name }).apply(x) as tfl.SymbolicTensor;

/** Global pooling then the requested classifier head. */
function head(x: tfl.SymbolicTensor, classes: number, kind: HeadKind): tfl.SymbolicTensor {
  const channels = x.shape[3] as number;
  let y = tfl.layers.globalAveragePooling2d({ name: 'global_pool' }).apply(x) as tfl.SymbolicTensor;
  switch (kind) {
    case 'dense-softmax':
      return tfl.layers.dense({ units: classes, activation: 'softmax', name: 'predictions', kernelInitializer: kernelInit(), biasInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: nextSeed() }) }).apply(y) as tfl.SymbolicTensor;
    case 'logits':
      return tfl.layers.dense({ units: classes, name: 'logits', kernelInitializer: kernelInit(), biasInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: nextSeed() }) }).apply(y) as tfl.SymbolicTensor;
    case 'conv-softmax-reshape':
      // MobileNet v1 style: reshape to 1×1, a 1×1 conv whose own activation is softmax, flatten
      y = tfl.layers.reshape({ targetShape: [1, 1, channels], name: 'reshape_1' }).apply(y) as tfl.SymbolicTensor;
      y = tfl.layers.conv2d({ filters: classes, kernelSize: 1, activation: 'softmax', name: 'conv_preds', kernelInitializer: kernelInit(), biasInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: nextSeed() }) }).apply(y) as tfl.SymbolicTensor;
      return tfl.layers.reshape({ targetShape: [classes], name: 'reshape_2' }).apply(y) as tfl.SymbolicTensor;
    case 'activation-softmax':
      // exactly the published MobileNet v1 tail: conv_preds → Activation(softmax) → Reshape
      y = tfl.layers.reshape({ targetShape: [1, 1, channels], name: 'reshape_1' }).apply(y) as tfl.SymbolicTensor;
      y = tfl.layers.conv2d({ filters: classes, kernelSize: 1, name: 'conv_preds', kernelInitializer: kernelInit(), biasInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: nextSeed() }) }).apply(y) as tfl.SymbolicTensor;
      y = tfl.layers.activation({ activation: 'softmax', name: 'act_softmax' }).apply(y) as tfl.SymbolicTensor;
      return tfl.layers.reshape({ targetShape: [classes], name: 'reshape_2' }).apply(y) as tfl.SymbolicTensor;
  }
}

/**
 * MobileNetV2-like: stem conv/BN/ReLU6, inverted residual blocks (1×1 expand, depthwise 3×3,
 * 1×1 linear projection) with `add` skip connections where shapes allow, a 1×1 conv "out_relu".
 */
export function mobileNetV2Like(opts: { size?: number; classes?: number; head?: HeadKind } = {}): tfl.LayersModel {
  const size = opts.size ?? 32;
  const input = tfl.input({ shape: [size, size, 3], name: 'input_1' });
  let x = relu6(bn(conv(input, 8, 3, 2, 'Conv1'), 'bn_Conv1'), 'Conv1_relu');
  const block = (inp: tfl.SymbolicTensor, id: number, out: number, stride: number): tfl.SymbolicTensor => {
    const inC = inp.shape[3] as number;
    const p = `block_${id}_`;
    let y = relu6(bn(conv(inp, inC * 3, 1, 1, `${p}expand`), `${p}expand_BN`), `${p}expand_relu`);
    y = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, name: `${p}depthwise`, depthwiseInitializer: depthwiseInit() }).apply(y) as tfl.SymbolicTensor;
    y = relu6(bn(y, `${p}depthwise_BN`), `${p}depthwise_relu`);
    y = bn(conv(y, out, 1, 1, `${p}project`), `${p}project_BN`);
    if (stride === 1 && inC === out) y = tfl.layers.add({ name: `${p}add` }).apply([inp, y]) as tfl.SymbolicTensor;
    return y;
  };
  x = block(x, 1, 8, 1); // residual
  x = block(x, 2, 12, 2); // downsample, no residual
  x = block(x, 3, 12, 1); // residual
  x = block(x, 4, 12, 1); // residual on a residual
  x = relu6(bn(conv(x, 24, 1, 1, 'Conv_1'), 'Conv_1_bn'), 'out_relu');
  return tfl.model({ inputs: input, outputs: head(x, opts.classes ?? 7, opts.head ?? 'dense-softmax'), name: 'mobilenetv2_like' });
}

/** ResNet-like: conv-BN-ReLU blocks with identity shortcuts and a strided projection shortcut. */
export function resNetLike(opts: { size?: number; classes?: number; head?: HeadKind } = {}): tfl.LayersModel {
  const size = opts.size ?? 32;
  const input = tfl.input({ shape: [size, size, 3], name: 'input_1' });
  let x = relu(bn(conv(input, 8, 3, 1, 'conv1'), 'conv1_bn'), 'conv1_relu');
  x = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }).apply(x) as tfl.SymbolicTensor;
  const identity = (inp: tfl.SymbolicTensor, p: string): tfl.SymbolicTensor => {
    const c = inp.shape[3] as number;
    let y = relu(bn(conv(inp, c, 3, 1, `${p}_conv1`), `${p}_bn1`), `${p}_relu1`);
    y = bn(conv(y, c, 3, 1, `${p}_conv2`), `${p}_bn2`);
    return relu(tfl.layers.add({ name: `${p}_add` }).apply([y, inp]) as tfl.SymbolicTensor, `${p}_out`);
  };
  const projection = (inp: tfl.SymbolicTensor, c: number, p: string): tfl.SymbolicTensor => {
    let y = relu(bn(conv(inp, c, 3, 2, `${p}_conv1`), `${p}_bn1`), `${p}_relu1`);
    y = bn(conv(y, c, 3, 1, `${p}_conv2`), `${p}_bn2`);
    const s = bn(conv(inp, c, 1, 2, `${p}_proj`), `${p}_proj_bn`);
    return relu(tfl.layers.add({ name: `${p}_add` }).apply([y, s]) as tfl.SymbolicTensor, `${p}_out`);
  };
  x = identity(x, 'res1');
  x = projection(x, 16, 'res2');
  x = identity(x, 'res3');
  return tfl.model({ inputs: input, outputs: head(x, opts.classes ?? 6, opts.head ?? 'logits'), name: 'resnet_like' });
}

/** Saves like tfjs-node's file:// handler: `dir/model.json` + `dir/group1-shard1of1.bin`. */
/** A 4-class ResNet-like CamModel on 32×32 inputs, and a smooth image in [0, 1] for it. */
export function smallResNetCam(): { cam: CamModel; input: Float32Array } {
  const cam = new CamModel(resNetLike({ classes: 4 }), { id: 'r', name: 'r', url: '', preprocessing: PREPROCESSING.unit });
  const input = Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
  return { cam, input };
}

export async function saveModelToDir(model: tfl.LayersModel, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const buf = data === undefined ? new ArrayBuffer(0) : Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
      const json = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }],
      };
      await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      await fs.writeFile(path.join(dir, 'group1-shard1of1.bin'), new Uint8Array(buf));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}
