/**
 * A TF.js GraphModel prepared for CAMs, with the same interface as CamModel (features, head,
 * logits, candidate layers) so an ExplanationSession works on it unchanged.
 *
 * What TF.js allows (measured with tfjs-converter 4.22, see docs/models.md):
 * - `execute(x, '<node>')` returns any internal tensor: that is `features`.
 * - `execute({'<node>': A, ...}, '<logits node>')` starts the graph at internal tensors and runs
 *   only the nodes downstream of them: that is `head`. Tensors the head needs that do not depend
 *   on A (skip connections) are fed too, like CamModel's extras.
 * - `execute` runs eager tfjs ops, so `tf.grad` through it works when every op on the path has a
 *   registered gradient. Graphs optimised with fused ops (`_FusedConv2D` with Relu6, …) do not:
 *   tfjs has no gradient for fused activations other than linear/ReLU. We probe this per layer;
 *   when it fails, forward-only methods (Score-CAM) still work and gradient methods get one
 *   clear CamError instead of a tfjs stack trace.
 * - Graphs with control flow need `executeAsync`, which cannot be fed internal tensors for a
 *   synchronous head; they are rejected with a clear message.
 */
import * as tf from '@tensorflow/tfjs-core';
// Registers the gradients of all core ops (tfjs-layers imports them; converter does not).
import '@tensorflow/tfjs-layers';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { CamError } from '../errors';
import type { LayerInfo, ModelSplit } from './camModel';
import type { ModelDescriptor } from './descriptor';
import type { ExplainableModel } from './explainable';
import { readWeightGroups, validateManifest } from './artifacts';

interface GraphNodeDef {
  name: string;
  op: string;
  input?: string[];
}

/** Ops whose output is a natural "layer output" to explain at. */
const ACTIVATION_OPS = new Set(['Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Prelu', 'Swish', 'Sigmoid', 'Tanh']);
const MERGE_OPS = new Set(['Add', 'AddV2', 'AddN', 'ConcatV2', 'Concat']);
const POOL_OPS = new Set(['MaxPool', 'AvgPool']);
const FUSED_OPS = new Set(['_FusedConv2D', 'FusedDepthwiseConv2dNative', 'FusedConv2D']);
/** Ops that only reshape, walked over when looking for a softmax at the output. */
const SHAPE_OPS = new Set(['Squeeze', 'Reshape', 'Identity', 'IdentityN']);

/** "name:1" → "name"; "^name" (control dependency) → undefined. */
function producerOf(input: string): string | undefined {
  if (input.startsWith('^')) return undefined;
  return input.replace(/:\d+$/, '');
}

export interface GradientSupport {
  ok: boolean;
  /** Why gradient methods (Grad-CAM, Fusion-CAM) are unavailable at this layer. */
  reason?: string;
}

export class GraphCamModel implements ExplainableModel {
  readonly inputSize: [number, number];
  readonly numClasses: number;
  readonly stopsBeforeSoftmax: boolean;
  private readonly nodes = new Map<string, GraphNodeDef>();
  private readonly order: string[];
  private readonly inputName: string;
  private readonly logitsName: string;
  private readonly candidates: LayerInfo[];
  private readonly splits = new Map<string, ModelSplit>();
  private readonly gradientChecks = new Map<string, GradientSupport>();

  constructor(
    readonly model: GraphModel,
    topology: { node?: GraphNodeDef[] },
    readonly descriptor: ModelDescriptor,
  ) {
    for (const n of topology.node ?? []) this.nodes.set(n.name, n);
    if (model.inputs.length !== 1) throw new CamError(`The GraphModel has ${model.inputs.length} inputs; one image input is needed`, 'unsupported-model');
    if (model.outputs.length !== 1) throw new CamError(`The GraphModel has ${model.outputs.length} outputs; one class-score output is needed`, 'unsupported-model');
    const inShape = model.inputs[0].shape ?? [];
    if (inShape.length !== 4 || inShape[3] !== 3 || !(inShape[1]! > 0) || !(inShape[2]! > 0)) {
      throw new CamError(`The GraphModel input has shape [${inShape.join(', ')}]; an RGB image input [?, H, W, 3] with a fixed size is needed`, 'unsupported-model');
    }
    this.inputSize = [inShape[1]!, inShape[2]!];
    this.inputName = producerOf(model.inputs[0].name)!;

    let logits = producerOf(model.outputs[0].name)!;
    let softmax = false;
    for (let n = this.nodes.get(logits); n; n = this.nodes.get(logits)) {
      const data = (n.input ?? []).map(producerOf).filter((i): i is string => !!i && this.nodes.get(i)?.op !== 'Const');
      if (SHAPE_OPS.has(n.op) && data.length === 1) {
        logits = data[0];
        continue;
      }
      if (n.op === 'Softmax' && data.length === 1) {
        logits = data[0];
        softmax = true;
      }
      break;
    }
    // A softmax we did not walk to (e.g. an output that is the softmax itself) is caught above;
    // the node after which nothing but reshapes follows is the logits.
    this.logitsName = softmax ? logits : producerOf(model.outputs[0].name)!;
    this.stopsBeforeSoftmax = softmax;
    this.order = this.ancestorsInOrder(this.logitsName);

    // One forward pass on a zero image gives every tensor's shape (graphs rarely record them).
    const probeNames = this.order.filter((n) => this.isCandidateOp(n));
    const [H, W] = this.inputSize;
    let shapes: number[][];
    try {
      shapes = tf.tidy(() => {
        const res = this.model.execute(tf.zeros([1, H, W, 3]), [this.logitsName, ...probeNames]);
        return (Array.isArray(res) ? res : [res]).map((t) => t.shape);
      });
    } catch (e) {
      throw new CamError(`This GraphModel cannot be run synchronously (${(e as Error).message.split('\n')[0]}); models with control flow are not supported`, 'unsupported-model');
    }
    this.numClasses = shapes[0].slice(1).reduce((a, b) => a * b, 1);
    if (this.numClasses < 2) throw new CamError('The model output has fewer than two classes', 'unsupported-model');
    if (descriptor.labels && descriptor.labels.length !== this.numClasses) {
      throw new CamError(`The labels list has ${descriptor.labels.length} names but the model has ${this.numClasses} outputs`, 'label-count');
    }
    this.candidates = [];
    probeNames.forEach((name, i) => {
      const s = shapes[i + 1];
      if (s.length === 4 && s[1] * s[2] > 1) this.candidates.push({ name, className: this.nodes.get(name)!.op, shape: [s[1], s[2], s[3]] });
    });
  }

  get name(): string {
    return this.descriptor.name;
  }

  label(classIndex: number): string {
    return this.descriptor.labels?.[classIndex] ?? `class ${classIndex}`;
  }

  /** Data inputs of a node (no control dependencies, no weights). */
  private dataInputs(name: string): string[] {
    const n = this.nodes.get(name);
    return (n?.input ?? []).map(producerOf).filter((i): i is string => !!i && this.nodes.get(i)?.op !== 'Const');
  }

  private isCandidateOp(name: string): boolean {
    const op = this.nodes.get(name)?.op ?? '';
    if (ACTIVATION_OPS.has(op) || POOL_OPS.has(op) || FUSED_OPS.has(op)) return true;
    // a merge of two computed tensors (a residual add, a concat), not an add of a constant bias
    return MERGE_OPS.has(op) && this.dataInputs(name).length >= 2;
  }

  /** Every node `target` depends on (weights excluded), in a valid execution order. */
  private ancestorsInOrder(target: string): string[] {
    const out: string[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: [string, boolean][] = [[target, false]];
    while (stack.length) {
      const [name, expanded] = stack.pop()!;
      if (expanded) {
        state.set(name, 2);
        out.push(name);
        continue;
      }
      if (state.has(name)) continue;
      state.set(name, 1);
      stack.push([name, true]);
      for (const i of this.dataInputs(name)) if (!state.has(i)) stack.push([i, false]);
    }
    return out;
  }

  candidateLayers(): LayerInfo[] {
    return this.candidates.slice();
  }

  /** The descriptor's layer, else the last candidate. */
  defaultLayer(): string {
    if (this.candidates.length === 0) throw new CamError('The model has no node with a spatial (4-D, larger than 1×1) output to explain', 'unsupported-model');
    const wanted = this.descriptor.defaultLayer;
    if (wanted && this.candidates.some((c) => c.name === wanted)) return wanted;
    return this.candidates[this.candidates.length - 1].name;
  }

  split(layerName: string = this.defaultLayer()): ModelSplit {
    const cached = this.splits.get(layerName);
    if (cached) return cached;
    const info = this.candidates.find((c) => c.name === layerName);
    if (!info) {
      throw new CamError(this.nodes.has(layerName) ? `Node "${layerName}" is not a 4-D layer output feeding the class scores` : `No node named "${layerName}" in ${this.name}`, 'unknown-layer');
    }
    // nodes downstream of A on the way to the logits; their other inputs are the extras
    const dependent = new Set<string>([layerName]);
    for (const n of this.order) if (this.dataInputs(n).some((i) => dependent.has(i))) dependent.add(n);
    const extras = [...new Set(this.order.filter((n) => dependent.has(n) && n !== layerName).flatMap((n) => this.dataInputs(n)).filter((i) => !dependent.has(i)))];
    const model = this.model;
    const inputName = this.inputName;
    const logitsName = this.logitsName;
    const runHead = (A: tf.Tensor4D, extraTensors: tf.Tensor[]): tf.Tensor2D =>
      tf.tidy(() => {
        const batch = A.shape[0];
        const feed: tf.NamedTensorMap = { [layerName]: A };
        extras.forEach((id, i) => {
          const e = extraTensors[i];
          feed[id] = e.shape[0] === 1 && batch > 1 ? tf.tile(e, [batch, ...e.shape.slice(1).map(() => 1)]) : e;
        });
        return tf.reshape(model.execute(feed, logitsName) as tf.Tensor, [batch, -1]) as tf.Tensor2D;
      });
    const split: ModelSplit = {
      layer: info,
      features: (x) =>
        tf.tidy(() => {
          const res = model.execute({ [inputName]: x }, [layerName, ...extras]);
          const outs = Array.isArray(res) ? res : [res];
          // execute returns the fed tensor itself when a requested node is the input
          const [A, ...rest] = outs.map((t) => (t === x ? tf.clone(t) : t));
          return { A: A as tf.Tensor4D, extras: rest };
        }) as { A: tf.Tensor4D; extras: tf.Tensor[] },
      head: (A, extraTensors) => {
        const support = this.gradientSupport(layerName);
        if (support.ok) return runHead(A, extraTensors);
        // Same forward values; a backward pass through it fails with our message, not tfjs'.
        const guarded = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
          value: runHead(args[0] as tf.Tensor4D, extraTensors) as tf.Tensor,
          gradFunc: (): tf.Tensor => {
            abandonTape();
            throw new CamError(support.reason!, 'no-gradient');
          },
        }));
        return guarded(A) as tf.Tensor2D;
      },
    };
    this.splits.set(layerName, split);
    return split;
  }

  /**
   * Whether gradients of the logits flow back to `layer` (Grad-CAM, Fusion-CAM need them;
   * Score-CAM does not). Found by trying one backward pass on a zero image; cached.
   */
  gradientSupport(layerName: string = this.defaultLayer()): GradientSupport {
    const hit = this.gradientChecks.get(layerName);
    if (hit) return hit;
    const check: GradientSupport = { ok: true };
    this.gradientChecks.set(layerName, check); // set first: head() below asks for it
    const split = this.split(layerName);
    const [H, W] = this.inputSize;
    try {
      tf.tidy(() => {
        const { A, extras } = split.features(tf.zeros([1, H, W, 3]));
        tf.grad((a: tf.Tensor) => tf.sum(split.head(a as tf.Tensor4D, extras)))(A);
      });
    } catch (e) {
      abandonTape();
      check.ok = false;
      check.reason = `Gradients cannot flow through this GraphModel at "${layerName}" (${(e as Error).message.split('\n')[0]}): Score-CAM works, Grad-CAM and Fusion-CAM need a LayersModel or a graph converted without fused ops`;
    }
    return check;
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.reshape(this.model.execute({ [this.inputName]: x }, this.logitsName) as tf.Tensor, [x.shape[0], -1]) as tf.Tensor2D);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * A failed tf.grad leaves its tape behind: tfjs frees the tensors the tape saved only after a
 * successful backward pass, and the next tf.grad drops the list without freeing them. Free them
 * here (outermost gradient only), so a refused gradient does not leak.
 */
function abandonTape(): void {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null } }).state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

/** True when a parsed model.json is a TF.js GraphModel. */
export function isGraphModelJson(json: unknown): boolean {
  if (!json || typeof json !== 'object') return false;
  const j = json as { format?: unknown; modelTopology?: unknown };
  return j.format === 'graph-model' || (!!j.modelTopology && typeof j.modelTopology === 'object' && 'node' in (j.modelTopology as object));
}

/**
 * Loads a GraphModel from model.json + shards (manifest checked before and after reading, as
 * for LayersModels) and wraps it for CAMs.
 */
export async function loadGraphCamModel(
  json: unknown,
  readFile: (path: string) => Promise<ArrayBuffer>,
  descriptor: ModelDescriptor,
  what = 'model.json',
): Promise<GraphCamModel> {
  if (!isGraphModelJson(json)) throw new CamError(`${what} is not a TF.js GraphModel`, 'bad-model');
  const j = json as { modelTopology: { node?: GraphNodeDef[] }; weightsManifest: unknown; signature?: unknown; userDefinedMetadata?: unknown; modelInitializer?: unknown; format?: string };
  const manifest = validateManifest(j.weightsManifest, what);
  const weightData = await readWeightGroups(manifest, readFile);
  let model: GraphModel;
  try {
    model = await loadGraphModel(
      tf.io.fromMemory({
        modelTopology: j.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
        weightData,
        format: j.format,
        signature: j.signature as object | undefined,
        userDefinedMetadata: j.userDefinedMetadata as Record<string, unknown> | undefined,
        modelInitializer: j.modelInitializer as object | undefined,
      }),
    );
  } catch (e) {
    throw new CamError(`${what} could not be built as a GraphModel: ${(e as Error).message.split('\n')[0]}`, 'bad-model');
  }
  try {
    return new GraphCamModel(model, j.modelTopology, descriptor);
  } catch (e) {
    model.dispose();
    throw e;
  }
}
