/**
 * What an explanation session needs from a model, whatever it is built from: a LayersModel
 * (CamModel) or a TF.js GraphModel (GraphCamModel). CamModel satisfies it structurally.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LayerInfo, ModelSplit } from './camModel';
import type { ModelDescriptor } from './descriptor';

export interface ExplainableModel {
  readonly descriptor: ModelDescriptor;
  readonly name: string;
  /** [H, W] of the image input. */
  readonly inputSize: [number, number];
  readonly numClasses: number;
  /** True when the published output is a softmax that the logits stop before. */
  readonly stopsBeforeSoftmax: boolean;
  label(classIndex: number): string;
  candidateLayers(): LayerInfo[];
  defaultLayer(): string;
  split(layerName?: string): ModelSplit;
  /** x [B,H,W,3] in input space → logits [B, classes]. */
  logits(x: tf.Tensor4D): tf.Tensor2D;
  /** Logits with hooks on layer outputs (CamModel); models without it compute layer gradients one layer at a time. */
  logitsThrough?(x: tf.Tensor4D, hooks: Map<string, (a: tf.Tensor) => tf.Tensor>): tf.Tensor2D;
  dispose(): void;
}
