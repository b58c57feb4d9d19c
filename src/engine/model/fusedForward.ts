/**
 * An inference-only rewrite of a LayersGraph into plain tfjs ops, for the many forward passes of
 * Score-CAM and the masked probabilities of Fusion-CAM.
 *
 * tfjs-layers runs Conv → BatchNormalization → Activation as three kernels (it fuses only
 * relu/linear/elu into Conv2D and never fuses depthwise convs or relu6). At inference a
 * BatchNormalization after a conv is an affine map per output channel, so it folds into the
 * conv's weights and bias exactly (up to float rounding):
 *
 *     BN(conv(x, W) + b) = conv(x, W·s) + (b − μ)·s + β,   s = γ / √(σ² + ε)
 *
 * and a following relu / relu6 / leaky relu / linear activation runs inside the same kernel
 * (`tf.fused.conv2d`, `tf.fused.depthwiseConv2d`). Everything else runs through `layer.apply`
 * exactly as LayersGraph does, so any topology still works; only chains whose intermediate
 * tensors nobody else reads are merged. Gradients keep using the layer path.
 *
 * Folded weights are kept on the device and rebuilt if the model's weights change.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphStep, LayerLike } from './graph';

type Activation = 'linear' | 'relu' | 'relu6' | 'leakyrelu';

/** One op of the compiled program: tensor ids in, tensor ids out. */
interface Op {
  inputs: number[];
  outputs: number[];
  /** Layer names this op stands for (for reports and tests). */
  layers: string[];
  run(inputs: tf.Tensor[]): tf.Tensor | tf.Tensor[];
}

export interface FusedProgramInfo {
  /** Ops in the compiled program (a fused chain counts one). */
  ops: number;
  /** Conv / depthwise conv kernels that absorbed a BatchNormalization. */
  foldedBatchNorms: number;
  /** Activations absorbed into a conv kernel. */
  fusedActivations: number;
  /** Layers run as in tfjs-layers (`layer.apply`), by class name. */
  fallback: Record<string, number>;
}

export interface FusedProgram {
  /** Runs the program on `feed` and returns `fetch`; intermediates are disposed, the feed never is. */
  run(feed: Map<number, tf.Tensor>): tf.Tensor[];
  readonly info: FusedProgramInfo;
  /** Frees the folded weights. */
  dispose(): void;
}

/** A per-step replacement (as CamModel uses to run a softmax-activated layer linearly). */
export type StepOverride = (inputs: tf.Tensor[]) => tf.Tensor;

const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D']);
const IDENTITY_CLASSES = new Set(['Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

function configOf(layer: LayerLike): Record<string, unknown> {
  return layer.getConfig();
}

function isChannelsLast(cfg: Record<string, unknown>): boolean {
  return cfg.dataFormat == null || cfg.dataFormat === 'channelsLast';
}

function pair(v: unknown): [number, number] {
  if (Array.isArray(v)) return [Number(v[0]), Number(v[v.length > 1 ? 1 : 0])];
  return [Number(v), Number(v)];
}

/** The activation a layer applies on its own (Activation / ReLU / LeakyReLU), if it is fusable. */
function standaloneActivation(layer: LayerLike): { act: Activation; alpha?: number } | null {
  const cls = layer.getClassName();
  const cfg = configOf(layer);
  if (cls === 'Activation') {
    const a = cfg.activation;
    if (a === 'linear' || a === 'relu' || a === 'relu6') return { act: a };
    return null;
  }
  if (cls === 'ReLU') {
    const max = cfg.maxValue;
    if (max == null) return { act: 'relu' };
    if (max === 6) return { act: 'relu6' };
    return null;
  }
  if (cls === 'LeakyReLU') {
    const alpha = cfg.alpha;
    return typeof alpha === 'number' ? { act: 'leakyrelu', alpha } : null;
  }
  return null;
}

/** The activation inside a conv layer, if a fused kernel computes it identically. */
function convActivation(cfg: Record<string, unknown>): Activation | null {
  const a = cfg.activation ?? 'linear';
  return a === 'linear' || a === 'relu' || a === 'relu6' ? a : null;
}

/** Can this Conv2D / DepthwiseConv2D step be replaced by a fused kernel at all? */
function convIsRewritable(step: GraphStep): boolean {
  const layer = step.layer;
  const cfg = configOf(layer);
  if (step.inputs.length !== 1 || step.outputs.length !== 1) return false;
  if (!isChannelsLast(cfg)) return false;
  if (cfg.padding !== 'same' && cfg.padding !== 'valid') return false;
  const dil = pair(cfg.dilationRate ?? 1);
  // tfjs-layers' DepthwiseConv2D ignores its dilation rate; stay bit-compatible by not touching it.
  if (layer.getClassName() === 'DepthwiseConv2D' && (dil[0] !== 1 || dil[1] !== 1)) return false;
  if (step.node.callArgs && Object.keys(step.node.callArgs).some((k) => k !== 'training')) return false;
  return true;
}

function batchNormIsFoldable(step: GraphStep): boolean {
  const cfg = configOf(step.layer);
  const axis = cfg.axis as number | number[] | undefined;
  const ax = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : NaN) : (axis ?? -1);
  const rank = step.node.inputTensors[0]?.shape.length ?? 4;
  return step.inputs.length === 1 && (ax === -1 || ax === rank - 1);
}

/**
 * Folded weights of one conv chain, recomputed when the source weights change (the variables'
 * data ids are compared on every run; that costs nothing).
 */
class FoldedConv {
  private filter?: tf.Tensor4D;
  private bias?: tf.Tensor1D;
  private sourceIds: object[] = [];

  constructor(
    private readonly conv: LayerLike,
    private readonly bn: LayerLike | null,
  ) {}

  private sources(): tf.Tensor[] {
    return [...this.conv.getWeights(), ...(this.bn ? this.bn.getWeights() : [])];
  }

  weights(): { filter: tf.Tensor4D; bias: tf.Tensor1D | undefined } {
    const src = this.sources();
    const ids = src.map((t) => t.dataId);
    if (!this.filter || ids.length !== this.sourceIds.length || ids.some((id, i) => id !== this.sourceIds[i])) {
      this.dispose();
      const { filter, bias } = tf.tidy(() => this.fold(src));
      this.filter = tf.keep(filter);
      this.bias = bias ? tf.keep(bias) : undefined;
      this.sourceIds = ids;
    }
    return { filter: this.filter!, bias: this.bias };
  }

  private fold(src: tf.Tensor[]): { filter: tf.Tensor4D; bias?: tf.Tensor1D } {
    const convCfg = configOf(this.conv);
    const useBias = convCfg.useBias !== false;
    const nConv = useBias ? 2 : 1;
    const kernel = src[0] as tf.Tensor4D;
    const convBias = useBias ? (src[1] as tf.Tensor1D) : null;
    if (!this.bn) return { filter: tf.clone(kernel), bias: convBias ? tf.clone(convBias) : undefined };
    const bnCfg = configOf(this.bn);
    const bnW = src.slice(nConv);
    // BatchNormalization weights: [gamma if scale], [beta if center], moving mean, moving variance
    const gamma = bnCfg.scale !== false ? bnW[0] : null;
    const beta = bnCfg.center !== false ? bnW[gamma ? 1 : 0] : null;
    const [mean, variance] = bnW.slice(bnW.length - 2);
    const eps = Number(bnCfg.epsilon ?? 1e-3);
    // s = γ / √(σ² + ε), per output channel
    const inv = tf.rsqrt(tf.add(variance, eps));
    const s = gamma ? tf.mul(inv, gamma) : inv;
    const isDepthwise = this.conv.getClassName() === 'DepthwiseConv2D';
    const [, , cin, cm] = kernel.shape;
    // Output channel o of a depthwise conv is input channel ⌊o/m⌋, multiplier o mod m.
    const filter = (isDepthwise ? tf.mul(kernel, tf.reshape(s, [1, 1, cin, cm])) : tf.mul(kernel, s)) as tf.Tensor4D;
    let bias = tf.mul(convBias ? tf.sub(convBias, mean) : tf.neg(mean), s);
    if (beta) bias = tf.add(bias, beta);
    return { filter, bias: bias as tf.Tensor1D };
  }

  dispose(): void {
    this.filter?.dispose();
    this.bias?.dispose();
    this.filter = undefined;
    this.bias = undefined;
    this.sourceIds = [];
  }
}

function convOp(
  step: GraphStep,
  folded: FoldedConv,
  activation: Activation,
  alpha: number | undefined,
  outputId: number,
  layers: string[],
): Op {
  const cfg = configOf(step.layer);
  const strides = pair(cfg.strides ?? 1);
  const pad = cfg.padding as 'same' | 'valid';
  const isDepthwise = step.layer.getClassName() === 'DepthwiseConv2D';
  const dilations = pair(cfg.dilationRate ?? 1);
  return {
    inputs: step.inputs,
    outputs: [outputId],
    layers,
    run([x]) {
      const { filter, bias } = folded.weights();
      const args = {
        x: x as tf.Tensor4D,
        filter,
        strides,
        pad,
        dataFormat: 'NHWC' as const,
        dilations,
        bias,
        activation,
        leakyreluAlpha: alpha,
      };
      return isDepthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
    },
  };
}

function layerOp(step: GraphStep, override?: StepOverride): Op {
  return {
    inputs: step.inputs,
    outputs: step.outputs,
    layers: [step.layer.name],
    run(inputs) {
      // tidy: some layers (e.g. ReLU with maxValue) leave intermediates outside their own tidy
      return tf.tidy(() => {
        if (override) return override(inputs);
        return step.layer.apply(inputs.length === 1 ? inputs[0] : inputs, { ...(step.node.callArgs ?? {}), training: false });
      });
    },
  };
}

/**
 * Compiles `steps` (in execution order, as from `LayersGraph.stepsFor`) into a program that
 * computes `fetch` from the graph's input tensors. `overrides` replace single steps exactly as in
 * `LayersGraph.run` (such steps are never merged).
 */
export function compileFusedForward(
  steps: GraphStep[],
  fetch: number[],
  overrides?: Map<GraphStep, StepOverride>,
): FusedProgram {
  // Who reads each tensor (a tensor read by two steps, or fetched, cannot be fused away).
  const readers = new Map<number, GraphStep[]>();
  for (const s of steps) for (const id of s.inputs) readers.set(id, [...(readers.get(id) ?? []), s]);
  const fetched = new Set(fetch);
  const onlyReader = (id: number): GraphStep | null => {
    if (fetched.has(id)) return null;
    const r = readers.get(id);
    return r && r.length === 1 ? r[0] : null;
  };
  const isOverridden = (s: GraphStep) => overrides?.has(s) ?? false;

  const ops: Op[] = [];
  const folds: FoldedConv[] = [];
  const alias = new Map<number, number>();
  const info: FusedProgramInfo = { ops: 0, foldedBatchNorms: 0, fusedActivations: 0, fallback: {} };
  const consumed = new Set<GraphStep>();

  for (const step of steps) {
    if (consumed.has(step)) continue;
    const cls = step.layer.getClassName();
    const override = overrides?.get(step);

    // Inference no-ops: the output is the input tensor.
    const act = override ? null : standaloneActivation(step.layer);
    if (!override && step.inputs.length === 1 && step.outputs.length === 1 && (IDENTITY_CLASSES.has(cls) || act?.act === 'linear')) {
      alias.set(step.outputs[0], step.inputs[0]);
      continue;
    }

    if (!override && CONV_CLASSES.has(cls) && convIsRewritable(step)) {
      const chain = [step.layer.name];
      let outId = step.outputs[0];
      let bn: LayerLike | null = null;
      let activation = convActivation(configOf(step.layer));
      let alpha: number | undefined;
      if (activation === null) {
        ops.push(layerOp(step));
        info.fallback[cls] = (info.fallback[cls] ?? 0) + 1;
        continue;
      }
      // conv (linear) → BatchNormalization
      let next = onlyReader(outId);
      if (activation === 'linear' && next && !isOverridden(next) && next.layer.getClassName() === 'BatchNormalization' && batchNormIsFoldable(next)) {
        bn = next.layer;
        consumed.add(next);
        chain.push(next.layer.name);
        outId = next.outputs[0];
        info.foldedBatchNorms++;
        next = onlyReader(outId);
      }
      // … → relu / relu6 / leaky relu / linear
      const nextAct = activation === 'linear' && next && !isOverridden(next) && next.outputs.length === 1 ? standaloneActivation(next.layer) : null;
      if (next && nextAct) {
        activation = nextAct.act;
        alpha = nextAct.alpha;
        consumed.add(next);
        chain.push(next.layer.name);
        outId = next.outputs[0];
        info.fusedActivations++;
      }
      const folded = new FoldedConv(step.layer, bn);
      folds.push(folded);
      ops.push(convOp(step, folded, activation, alpha, outId, chain));
      continue;
    }

    ops.push(layerOp(step, override));
    if (!override) info.fallback[cls] = (info.fallback[cls] ?? 0) + 1;
  }
  info.ops = ops.length;

  const resolve = (id: number): number => {
    let r = id;
    while (alias.has(r)) r = alias.get(r)!;
    return r;
  };
  for (const op of ops) op.inputs = op.inputs.map(resolve);
  const fetchIds = fetch.map(resolve);
  const lastUse = new Map<number, number>();
  ops.forEach((op, i) => op.inputs.forEach((id) => lastUse.set(id, i)));
  const keep = new Set(fetchIds);

  // Fold every weight now, so that the first run does not allocate lasting tensors.
  for (const f of folds) f.weights();

  return {
    info,
    run(feed) {
      const values = new Map<number, tf.Tensor>(feed);
      const fed = new Set(feed.values());
      const drop = (id: number) => {
        const v = values.get(id);
        if (v && !fed.has(v)) v.dispose();
        values.delete(id);
      };
      ops.forEach((op, i) => {
        const inputs = op.inputs.map((id) => {
          const v = values.get(id);
          if (!v) throw new Error(`Missing input for layer "${op.layers[0]}"`);
          return v;
        });
        const out = op.run(inputs);
        // A layer may return its input object (e.g. a no-op at inference): never alias live tensors.
        const outs = (Array.isArray(out) ? out : [out]).map((t) => (inputs.includes(t) || fed.has(t) ? tf.clone(t) : t));
        op.outputs.forEach((id, j) => values.set(id, outs[j]));
        for (const id of op.inputs) if (lastUse.get(id) === i && !keep.has(id)) drop(id);
        for (const id of op.outputs) if (!lastUse.has(id) && !keep.has(id)) drop(id);
      });
      const seen = new Set<tf.Tensor>();
      return fetchIds.map((id) => {
        const v = values.get(id);
        if (!v) throw new Error(`Tensor ${id} was not computed`);
        // A fetched tensor that is fed, or fetched twice, is returned as its own handle.
        const out = fed.has(v) || seen.has(v) ? tf.clone(v) : v;
        seen.add(v);
        return out;
      });
    },
    dispose() {
      folds.forEach((f) => f.dispose());
    },
  };
}
