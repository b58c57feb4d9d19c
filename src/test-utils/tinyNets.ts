/**
 * Tiny random conv nets for the engine tests: a JS description (jsnet.ts) with seeded weights,
 * built as a real tfjs-layers model with exactly the same float32 weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { rng, uniform, type JsTensor, type NetNode, type NetSpec } from './jsnet';

type LayerNode = Exclude<NetNode, { kind: 'input' }>;

function makeLayer(node: LayerNode, inputShape?: number[]): tfl.layers.Layer {
  const common = { name: node.name, ...(inputShape ? { inputShape } : {}) };
  switch (node.kind) {
    case 'conv':
      return tfl.layers.conv2d({
        ...common,
        filters: node.filters,
        kernelSize: node.kernel,
        strides: node.strides,
        padding: node.padding,
        activation: node.activation,
      });
    case 'act':
      return tfl.layers.activation({ ...common, activation: node.activation });
    case 'gap':
      return tfl.layers.globalAveragePooling2d({ ...common });
    case 'dense':
      return tfl.layers.dense({ ...common, units: node.units, activation: node.activation });
    case 'add':
      return tfl.layers.add({ ...common });
    case 'reshape':
      return tfl.layers.reshape({ ...common, targetShape: node.targetShape });
  }
}

/** Builds the tfjs-layers model for `spec` and loads its weights. */
export function buildLayersModel(spec: NetSpec): tfl.LayersModel {
  const [inputNode, ...rest] = spec.nodes;
  if (inputNode.kind !== 'input') throw new Error('first node must be the input');
  const layers = new Map<string, tfl.layers.Layer>();
  let model: tfl.LayersModel;
  if (spec.sequential) {
    const seq = tfl.sequential();
    rest.forEach((node, i) => {
      const layer = makeLayer(node as LayerNode, i === 0 ? inputNode.shape : undefined);
      layers.set(node.name, layer);
      seq.add(layer);
    });
    model = seq;
  } else {
    const sym = new Map<string, tfl.SymbolicTensor>();
    const input = tfl.input({ shape: inputNode.shape, name: inputNode.name });
    sym.set(inputNode.name, input);
    for (const node of rest as LayerNode[]) {
      const layer = makeLayer(node);
      layers.set(node.name, layer);
      const ins = node.kind === 'add' ? node.inputs.map((n) => sym.get(n)!) : sym.get(node.input)!;
      sym.set(node.name, layer.apply(ins) as tfl.SymbolicTensor);
    }
    model = tfl.model({ inputs: input, outputs: sym.get(rest[rest.length - 1].name)! });
  }
  for (const [name, w] of spec.weights) {
    const kernel = tf.tensor(Float32Array.from(w.kernel), w.kernelShape);
    const bias = tf.tensor1d(Float32Array.from(w.bias));
    layers.get(name)!.setWeights([kernel, bias]);
    kernel.dispose();
    bias.dispose();
  }
  return model;
}

/** Fills `spec.weights` for every conv/dense node with seeded He-uniform weights (times `gain`). */
function initWeights(nodes: NetNode[], seed: number, gain = 1): NetSpec['weights'] {
  const rand = rng(seed);
  const channels = new Map<string, number[]>();
  const weights: NetSpec['weights'] = new Map();
  for (const node of nodes) {
    if (node.kind === 'input') {
      channels.set(node.name, node.shape);
      continue;
    }
    const inName = node.kind === 'add' ? node.inputs[0] : node.input;
    const inShape = channels.get(inName)!;
    if (node.kind === 'conv') {
      const cin = inShape[inShape.length - 1];
      const fanIn = node.kernel[0] * node.kernel[1] * cin;
      const kernelShape = [node.kernel[0], node.kernel[1], cin, node.filters];
      weights.set(node.name, {
        kernel: uniform(kernelShape.reduce((a, b) => a * b), gain * Math.sqrt(6 / fanIn), rand),
        kernelShape,
        bias: uniform(node.filters, 0.2, rand),
      });
      channels.set(node.name, [...inShape.slice(0, -1), node.filters]); // spatial size is not needed here
    } else if (node.kind === 'dense') {
      const fanIn = inShape.reduce((a, b) => a * b);
      weights.set(node.name, {
        kernel: uniform(fanIn * node.units, gain * Math.sqrt(6 / fanIn), rand),
        kernelShape: [fanIn, node.units],
        bias: uniform(node.units, 0.2, rand),
      });
      channels.set(node.name, [node.units]);
    } else if (node.kind === 'gap') {
      channels.set(node.name, [inShape[inShape.length - 1]]);
    } else if (node.kind === 'reshape') {
      channels.set(node.name, node.targetShape);
    } else {
      channels.set(node.name, inShape);
    }
  }
  return weights;
}

export const INPUT: [number, number, number] = [14, 10, 3];

/** conv(valid, relu) → conv(stride 2, same) → Activation relu → GAP → Dense logits (Sequential). */
export function sequentialNet(seed = 1): NetSpec {
  const nodes: NetNode[] = [
    { name: 'input', kind: 'input', shape: INPUT },
    { name: 'conv1', kind: 'conv', input: 'input', filters: 4, kernel: [3, 3], strides: 1, padding: 'valid', activation: 'relu' },
    { name: 'conv2', kind: 'conv', input: 'conv1', filters: 6, kernel: [3, 3], strides: 2, padding: 'same', activation: 'linear' },
    { name: 'relu2', kind: 'act', input: 'conv2', activation: 'relu' },
    { name: 'gap', kind: 'gap', input: 'relu2' },
    { name: 'logits', kind: 'dense', input: 'gap', units: 5, activation: 'linear' },
  ];
  return { nodes, weights: initWeights(nodes, seed, 1.5), sequential: true };
}

/**
 * Functional net with a skip connection: c1 is computed before the target layer c2 and added
 * after it, so a head cut at c2 (or c3) needs c1 as an extra input.
 */
export function skipNet(seed = 2): NetSpec {
  const nodes: NetNode[] = [
    { name: 'input', kind: 'input', shape: INPUT },
    { name: 'c1', kind: 'conv', input: 'input', filters: 5, kernel: [3, 3], strides: 2, padding: 'same', activation: 'relu' },
    { name: 'c2', kind: 'conv', input: 'c1', filters: 5, kernel: [3, 3], strides: 1, padding: 'same', activation: 'relu' },
    { name: 'c3', kind: 'conv', input: 'c2', filters: 5, kernel: [3, 3], strides: 1, padding: 'same', activation: 'linear' },
    { name: 'sum', kind: 'add', inputs: ['c3', 'c1'] },
    { name: 'sum_relu', kind: 'act', input: 'sum', activation: 'relu' },
    { name: 'gap', kind: 'gap', input: 'sum_relu' },
    { name: 'logits', kind: 'dense', input: 'gap', units: 4, activation: 'linear' },
  ];
  return { nodes, weights: initWeights(nodes, seed, 1.5), sequential: false };
}

export type SoftmaxTail = 'activation' | 'dense-softmax' | 'conv-softmax-reshape' | 'conv-activation-reshape';

/** A trunk ending in softmax, in one of the four ways real classifiers do it. */
export function softmaxNet(tail: SoftmaxTail, seed = 3): NetSpec {
  const trunk: NetNode[] = [
    { name: 'input', kind: 'input', shape: INPUT },
    { name: 'conv1', kind: 'conv', input: 'input', filters: 4, kernel: [3, 3], strides: 1, padding: 'same', activation: 'relu' },
    { name: 'conv2', kind: 'conv', input: 'conv1', filters: 6, kernel: [3, 3], strides: 2, padding: 'same', activation: 'relu' },
    { name: 'gap', kind: 'gap', input: 'conv2' },
  ];
  const tails: Record<SoftmaxTail, NetNode[]> = {
    activation: [
      { name: 'preds', kind: 'dense', input: 'gap', units: 5, activation: 'linear' },
      { name: 'probs', kind: 'act', input: 'preds', activation: 'softmax' },
    ],
    'dense-softmax': [{ name: 'probs', kind: 'dense', input: 'gap', units: 5, activation: 'softmax' }],
    'conv-softmax-reshape': [
      { name: 'expand', kind: 'reshape', input: 'gap', targetShape: [1, 1, 6] },
      { name: 'preds', kind: 'conv', input: 'expand', filters: 5, kernel: [1, 1], strides: 1, padding: 'same', activation: 'softmax' },
      { name: 'flat', kind: 'reshape', input: 'preds', targetShape: [5] },
    ],
    'conv-activation-reshape': [
      { name: 'expand', kind: 'reshape', input: 'gap', targetShape: [1, 1, 6] },
      { name: 'preds', kind: 'conv', input: 'expand', filters: 5, kernel: [1, 1], strides: 1, padding: 'same', activation: 'linear' },
      { name: 'act_softmax', kind: 'act', input: 'preds', activation: 'softmax' },
      { name: 'flat', kind: 'reshape', input: 'act_softmax', targetShape: [5] },
    ],
  };
  const nodes = [...trunk, ...tails[tail]];
  return { nodes, weights: initWeights(nodes, seed, 1.5), sequential: tail !== 'activation' };
}

/** A seeded input image in model input space, values in [−1, 1]. */
export function randomInput(seed: number, shape: [number, number, number] = INPUT): JsTensor {
  return { shape, data: uniform(shape[0] * shape[1] * shape[2], 1, rng(seed)) };
}

export function toFloat32(x: JsTensor): Float32Array {
  return Float32Array.from(x.data);
}
