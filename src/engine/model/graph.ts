/**
 * A small executor over a tfjs-layers graph, so a LayersModel of any topology can be cut at a
 * target layer into `features: x → (A, extras)` and `head: (A, extras) → logits`.
 *
 * tfjs-layers cannot build a sub-model whose inputs are intermediate tensors, so we walk the
 * model's node graph ourselves and call each layer eagerly with concrete tensors
 * (`layer.apply(tensor)` runs `call` directly when it is given real tensors).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';

/** The parts of tfjs-layers' internal Layer and Node we rely on (they are public fields). */
export interface LayerLike {
  name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: Record<string, unknown>): tf.Tensor | tf.Tensor[];
  inboundNodes: NodeLike[];
  outputShape: (number | null)[] | (number | null)[][];
  getWeights(): tf.Tensor[];
}
export interface NodeLike {
  callArgs?: Record<string, unknown>;
  outboundLayer: LayerLike;
  inputTensors: SymbolicTensor[];
  outputTensors: SymbolicTensor[];
}

/** One layer call in the graph: which symbolic tensors go in and which come out. */
export interface GraphStep {
  layer: LayerLike;
  node: NodeLike;
  inputs: number[];
  outputs: number[];
}

export class LayersGraph {
  /** All steps needed for the model's outputs, in a valid execution order. */
  readonly steps: GraphStep[];
  readonly inputIds: number[];
  readonly outputIds: number[];
  /** symbolic tensor id → the step producing it */
  readonly producer = new Map<number, GraphStep>();
  readonly tensorShape = new Map<number, (number | null)[]>();

  constructor(model: LayersModel) {
    // A built Sequential keeps its functional graph in `.model`; an unbuilt one (fresh, or
    // loaded from a model.json) has none yet, but its own inputs/outputs describe the chain.
    const graphModel = (model.getClassName() === 'Sequential'
      ? ((model as unknown as { model?: LayersModel }).model ?? model)
      : model) as LayersModel;
    this.inputIds = graphModel.inputs.map((t) => t.id);
    this.outputIds = graphModel.outputs.map((t) => t.id);
    const inputSet = new Set(this.inputIds);
    for (const t of graphModel.inputs) this.tensorShape.set(t.id, t.shape);

    const steps: GraphStep[] = [];
    const visiting = new Set<NodeLike>();
    const done = new Set<NodeLike>();
    const visit = (t: SymbolicTensor): void => {
      if (inputSet.has(t.id)) return;
      const layer = t.sourceLayer as unknown as LayerLike;
      const node = layer.inboundNodes[t.nodeIndex];
      if (!node) throw new Error(`Model graph is broken at layer "${layer.name}"`);
      if (done.has(node)) return;
      if (visiting.has(node)) throw new Error(`Model graph has a cycle at layer "${layer.name}"`);
      visiting.add(node);
      for (const input of node.inputTensors) visit(input);
      visiting.delete(node);
      done.add(node);
      const step: GraphStep = {
        layer,
        node,
        inputs: node.inputTensors.map((s) => s.id),
        outputs: node.outputTensors.map((s) => s.id),
      };
      for (const s of node.outputTensors) {
        this.producer.set(s.id, step);
        this.tensorShape.set(s.id, s.shape);
      }
      steps.push(step);
    };
    for (const t of graphModel.outputs) visit(t);
    this.steps = steps;
  }

  /** Steps (in order) needed to compute `targets` given that `known` tensors are supplied. */
  stepsFor(targets: number[], known: Set<number>): GraphStep[] {
    const needed = new Set<GraphStep>();
    const stack = [...targets];
    const seen = new Set<number>();
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id) || known.has(id)) continue;
      seen.add(id);
      const step = this.producer.get(id);
      if (!step) {
        if (this.inputIds.includes(id)) throw new Error('A model input is needed but was not supplied');
        throw new Error(`No layer produces tensor ${id}`);
      }
      needed.add(step);
      stack.push(...step.inputs);
    }
    return this.steps.filter((s) => needed.has(s));
  }

  /** Ids of every tensor that (transitively) depends on `sourceId`. */
  descendantsOf(sourceId: number): Set<number> {
    const dependent = new Set<number>([sourceId]);
    for (const step of this.steps) {
      if (step.inputs.some((i) => dependent.has(i))) for (const o of step.outputs) dependent.add(o);
    }
    return dependent;
  }

  /**
   * Runs `steps` with the given feed and returns the requested tensors. Intermediate tensors
   * are disposed as soon as no later step needs them; the feed is never disposed.
   */
  run(
    steps: GraphStep[],
    feed: Map<number, tf.Tensor>,
    fetch: number[],
    override?: Map<GraphStep, (inputs: tf.Tensor[]) => tf.Tensor>,
  ): tf.Tensor[] {
    const values = new Map<number, tf.Tensor>(feed);
    const lastUse = new Map<number, number>();
    steps.forEach((s, i) => s.inputs.forEach((id) => lastUse.set(id, i)));
    const keep = new Set<number>([...feed.keys(), ...fetch]);
    steps.forEach((step, i) => {
      const inputs = step.inputs.map((id) => {
        const v = values.get(id);
        if (!v) throw new Error(`Missing input for layer "${step.layer.name}"`);
        return v;
      });
      const custom = override?.get(step);
      const out = custom
        ? custom(inputs)
        : step.layer.apply(inputs.length === 1 ? inputs[0] : inputs, { ...(step.node.callArgs ?? {}), training: false });
      // Some layers (Dropout at inference, linear Activation) return their input object
      // itself; clone so that disposing the input cannot dispose the output.
      const outs = (Array.isArray(out) ? out : [out]).map((t) => (inputs.includes(t) || [...feed.values()].includes(t) ? tf.clone(t) : t));
      step.outputs.forEach((id, j) => values.set(id, outs[j]));
      for (const id of step.inputs) {
        if (lastUse.get(id) === i && !keep.has(id)) {
          values.get(id)!.dispose();
          values.delete(id);
        }
      }
      // Outputs nobody reads (e.g. a multi-output layer's unused branch).
      step.outputs.forEach((id) => {
        if (!lastUse.has(id) && !keep.has(id)) {
          values.get(id)?.dispose();
          values.delete(id);
        }
      });
    });
    return fetch.map((id) => {
      const v = values.get(id);
      if (!v) throw new Error(`Tensor ${id} was not computed`);
      return v;
    });
  }
}
