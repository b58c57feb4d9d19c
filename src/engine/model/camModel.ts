/**
 * A LayersModel prepared for CAMs: it knows where its logits are (stopping before a final
 * softmax) and can be cut at any 4-D layer into `features` and `head`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { LayersGraph, type GraphStep, type LayerLike } from './graph';
import { compileFusedForward, type FusedProgram } from './fusedForward';
import type { ModelDescriptor } from './descriptor';

const SHAPE_ONLY = new Set(['Reshape', 'Flatten']);

export interface LayerInfo {
  name: string;
  className: string;
  /** [h, w, channels] */
  shape: [number, number, number];
}

/** Features and head of a model cut at one layer. All functions are synchronous and tidy. */
export interface ModelSplit {
  layer: LayerInfo;
  /** x [B,H,W,3] → target activations A [B,h,w,K] and any other tensors the head needs. */
  features(x: tf.Tensor4D): { A: tf.Tensor4D; extras: tf.Tensor[] };
  /** A [B,h,w,K] → logits [B, classes]. Extras with batch 1 are broadcast to A's batch. */
  head(A: tf.Tensor4D, extras: tf.Tensor[]): tf.Tensor2D;
}

export class CamModel {
  readonly graph: LayersGraph;
  readonly inputSize: [number, number];
  readonly numClasses: number;
  /** True when the published output is a softmax that we stop before. */
  readonly stopsBeforeSoftmax: boolean;
  private readonly logitsId: number;
  private readonly overrides = new Map<GraphStep, (inputs: tf.Tensor[]) => tf.Tensor>();
  private readonly splits = new Map<string, ModelSplit>();
  private readonly allSteps: GraphStep[];
  /** Conv+BatchNorm+activation folded into fused kernels (exact up to float rounding), for logits(). */
  private readonly fused: FusedProgram;
  /** logits() runs the fused-op rewrite (Score-CAM, masked probabilities); false: layer by layer. */
  useFusedForward = true;

  constructor(
    readonly model: LayersModel,
    readonly descriptor: ModelDescriptor,
  ) {
    this.graph = new LayersGraph(model);
    if (this.graph.inputIds.length !== 1) throw new Error(`The model has ${this.graph.inputIds.length} inputs; one image input is needed`);
    if (this.graph.outputIds.length !== 1) throw new Error(`The model has ${this.graph.outputIds.length} outputs; one class-score output is needed`);
    const inShape = this.graph.tensorShape.get(this.graph.inputIds[0])!;
    if (inShape.length !== 4 || inShape[3] !== 3 || !inShape[1] || !inShape[2]) {
      throw new Error(`The model input has shape [${inShape.map((d) => d ?? '?').join(', ')}]; an RGB image input [?, H, W, 3] with a fixed size is needed`);
    }
    this.inputSize = [inShape[1], inShape[2]];

    const { logitsId, softmax } = this.findLogits();
    this.logitsId = logitsId;
    this.stopsBeforeSoftmax = softmax;
    const logitsShape = this.graph.tensorShape.get(logitsId)!;
    this.numClasses = logitsShape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
    if (this.numClasses < 2) throw new Error('The model output has fewer than two classes');
    if (descriptor.labels && descriptor.labels.length !== this.numClasses) {
      throw new Error(`The labels list has ${descriptor.labels.length} names but the model has ${this.numClasses} outputs`);
    }
    this.allSteps = this.graph.stepsFor([logitsId], new Set(this.graph.inputIds));
    this.fused = compileFusedForward(this.allSteps, [logitsId], this.overrides);
  }

  get name(): string {
    return this.descriptor.name;
  }

  label(classIndex: number): string {
    return this.descriptor.labels?.[classIndex] ?? `class ${classIndex}`;
  }

  /**
   * Walks back from the output over shape-only layers to a softmax. The logits are the
   * softmax's input, or the output of a Dense/Conv whose own activation is softmax, run with a
   * linear twin of that layer.
   */
  private findLogits(): { logitsId: number; softmax: boolean } {
    let id = this.graph.outputIds[0];
    for (;;) {
      const step = this.graph.producer.get(id);
      if (!step) break;
      const cls = step.layer.getClassName();
      const cfg = step.layer.getConfig();
      if (SHAPE_ONLY.has(cls) && step.inputs.length === 1) {
        id = step.inputs[0];
        continue;
      }
      if (cls === 'Softmax' || (cls === 'Activation' && cfg.activation === 'softmax')) {
        return { logitsId: step.inputs[0], softmax: true };
      }
      if (cfg.activation === 'softmax') {
        this.overrides.set(step, linearTwin(step.layer));
        return { logitsId: id, softmax: true };
      }
      break;
    }
    return { logitsId: this.graph.outputIds[0], softmax: false };
  }

  /** Layers a CAM can be computed at: 4-D output with spatial size > 1, feeding the logits. */
  candidateLayers(): LayerInfo[] {
    const out: LayerInfo[] = [];
    for (const step of this.allSteps) {
      if (step.outputs.length !== 1) continue;
      const shape = this.graph.tensorShape.get(step.outputs[0])!;
      if (shape.length !== 4 || !shape[1] || !shape[2] || !shape[3]) continue;
      if (shape[1] * shape[2] <= 1) continue;
      out.push({ name: step.layer.name, className: step.layer.getClassName(), shape: [shape[1], shape[2], shape[3]] });
    }
    return out;
  }

  /** The descriptor's layer, else the last candidate layer. */
  defaultLayer(): string {
    const candidates = this.candidateLayers();
    if (candidates.length === 0) throw new Error('The model has no layer with a spatial (4-D, larger than 1×1) output to explain');
    const wanted = this.descriptor.defaultLayer;
    if (wanted && candidates.some((c) => c.name === wanted)) return wanted;
    return candidates[candidates.length - 1].name;
  }

  split(layerName: string = this.defaultLayer()): ModelSplit {
    const cached = this.splits.get(layerName);
    if (cached) return cached;
    const steps = this.allSteps.filter((s) => s.layer.name === layerName);
    if (steps.length === 0) {
      const exists = this.graph.steps.some((s) => s.layer.name === layerName);
      throw new Error(exists ? `Layer "${layerName}" does not feed the class scores` : `No layer named "${layerName}" in ${this.name}`);
    }
    const target = steps[steps.length - 1];
    const info = this.candidateLayers().find((c) => c.name === layerName);
    if (!info) {
      const shape = this.graph.tensorShape.get(target.outputs[0]) ?? [];
      throw new Error(`Layer "${layerName}" has output shape [${shape.map((d) => d ?? '?').join(', ')}]; a CAM needs a 4-D output larger than 1×1`);
    }
    const aId = target.outputs[0];
    const dependent = this.graph.descendantsOf(aId);
    if (!dependent.has(this.logitsId)) throw new Error(`Layer "${layerName}" does not feed the class scores`);
    const headCandidates = this.allSteps.filter((s) => s.outputs.some((o) => dependent.has(o)) && s !== target);
    const extraIds = [...new Set(headCandidates.flatMap((s) => s.inputs).filter((i) => !dependent.has(i)))];
    const headSteps = this.graph.stepsFor([this.logitsId], new Set([aId, ...extraIds]));
    const featureSteps = this.graph.stepsFor([aId, ...extraIds], new Set(this.graph.inputIds));
    const inputId = this.graph.inputIds[0];
    const logitsId = this.logitsId;
    const graph = this.graph;
    const overrides = this.overrides;

    const split: ModelSplit = {
      layer: info,
      features(x) {
        return tf.tidy(() => {
          const [A, ...extras] = graph.run(featureSteps, new Map([[inputId, x]]), [aId, ...extraIds], overrides);
          return { A: A as tf.Tensor4D, extras };
        }) as { A: tf.Tensor4D; extras: tf.Tensor[] };
      },
      head(A, extras) {
        return tf.tidy(() => {
          const batch = A.shape[0];
          const feed = new Map<number, tf.Tensor>([[aId, A]]);
          extraIds.forEach((id, i) => {
            const e = extras[i];
            feed.set(id, e.shape[0] === 1 && batch > 1 ? tf.tile(e, [batch, ...e.shape.slice(1).map(() => 1)]) : e);
          });
          const [logits] = graph.run(headSteps, feed, [logitsId], overrides);
          return tf.reshape(logits, [batch, -1]) as tf.Tensor2D;
        });
      },
    };
    this.splits.set(layerName, split);
    return split;
  }

  /** x [B,H,W,3] (input space) → logits [B, classes]. */
  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const feed = new Map([[this.graph.inputIds[0], x as tf.Tensor]]);
      const [z] = this.useFusedForward ? this.fused.run(feed) : this.graph.run(this.allSteps, feed, [this.logitsId], this.overrides);
      return tf.reshape(z, [x.shape[0], -1]) as tf.Tensor2D;
    });
  }

  /**
   * Logits for x on the layer path (so gradients flow), with the output of each layer named in
   * `hooks` passed through its hook on the way down (the hook returns the tensor the rest of the
   * network uses). A hook that is an identity with a custom gradient sees ∂z/∂A of its layer in
   * the backward pass: one forward and one backward pass give the gradients at every layer.
   */
  logitsThrough(x: tf.Tensor4D, hooks: Map<string, (a: tf.Tensor) => tf.Tensor>): tf.Tensor2D {
    const overrides = new Map(this.overrides);
    for (const [name, hook] of hooks) {
      const steps = this.allSteps.filter((s) => s.layer.name === name);
      const step = steps[steps.length - 1]; // a shared layer: its last use, as split() takes
      if (!step || step.outputs.length !== 1) throw new Error(`No single-output layer named "${name}" feeds the class scores`);
      const inner = this.overrides.get(step);
      overrides.set(step, (inputs) => {
        const out = inner ? inner(inputs) : step.layer.apply(inputs.length === 1 ? inputs[0] : inputs, { ...(step.node.callArgs ?? {}), training: false });
        return hook(Array.isArray(out) ? out[0] : out);
      });
    }
    const [z] = this.graph.run(this.allSteps, new Map([[this.graph.inputIds[0], x as tf.Tensor]]), [this.logitsId], overrides);
    return tf.reshape(z, [x.shape[0], -1]) as tf.Tensor2D;
  }

  dispose(): void {
    this.overrides.forEach((f) => (f as { dispose?: () => void }).dispose?.());
    this.fused.dispose();
    this.model.dispose();
  }
}

/** A copy of a softmax-activated layer with a linear activation and the same weights. */
function linearTwin(layer: LayerLike): ((inputs: tf.Tensor[]) => tf.Tensor) & { dispose(): void } {
  const className = layer.getClassName();
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry) throw new Error(`Cannot strip the softmax from layer "${layer.name}" (${className})`);
  const [cls, fromConfig] = entry;
  const twin = fromConfig(cls, { ...layer.getConfig(), activation: 'linear', name: `${layer.name}__logits` } as tf.serialization.ConfigDict) as unknown as LayerLike & {
    setWeights(w: tf.Tensor[]): void;
  };
  let built = false;
  const run = (inputs: tf.Tensor[]): tf.Tensor => {
    const out = twin.apply(inputs.length === 1 ? inputs[0] : inputs) as tf.Tensor;
    if (!built) {
      twin.setWeights(layer.getWeights());
      built = true;
      out.dispose();
      return twin.apply(inputs.length === 1 ? inputs[0] : inputs) as tf.Tensor;
    }
    return out;
  };
  // the twin owns copies of the weights once built; CamModel.dispose() must free them
  return Object.assign(run, { dispose: () => built && (twin as unknown as { dispose(): void }).dispose() });
}
