/**
 * The one method contract. Every CAM method is one module exporting one of these and one line
 * in registry.ts; everything that lists methods (CLI, app, URL state, evaluation, tests) reads
 * the registry.
 *
 * Shaped like pytorch-grad-cam's BaseCAM (a method supplies `get_cam_weights` / `get_cam_image`,
 * the base class owns the hooks and the shared tail) and torch-cam's `_get_weights`:
 * - a feature-map method (gradient or activation family) turns the target-layer activations
 *   (and, if it needs them, the gradients) into a saliency at feature resolution; the shared tail
 *   L = N(Up(ReLU(saliency))) is applied by whoever runs it (featureMap.ts);
 * - a region method runs masked forward passes through a RegionContext and returns its map;
 * - Fusion-CAM combines a feature map and a region map (steps in ../fusion.ts).
 * A method never knows how its passes are run: batching across engines, θ scored ahead and
 * caches live in the session and the accelerating scorer (../acceleration/).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { RegionContext, RegionResult, RegionVariant } from './region';

export type MethodFamily = 'gradient' | 'activation' | 'region' | 'fusion';

/** What a method needs besides the target-layer activations (which every method reads). */
export interface MethodNeeds {
  /** ∂z_c/∂A: one backward pass through the head (a model without gradient support cannot run it). */
  gradients: boolean;
  /** Forward passes of masked or ablated inputs beyond the one that gave A. */
  forwardPasses: boolean;
}

interface MethodInfo<Id extends string> {
  id: Id;
  /** The method's name as its paper writes it. */
  label: string;
  needs: MethodNeeds;
}

/** The target-layer tensors a feature-map method reads, [h, w, K] (owned by the caller). */
export interface FeatureInputs {
  A: tf.Tensor3D;
  /** ∂z_c/∂A; only call it when `needs.gradients` is declared. */
  gradients(): tf.Tensor3D;
}

export interface FeatureMapMethod<Id extends string = string> extends MethodInfo<Id> {
  family: 'gradient' | 'activation';
  /** Saliency before the shared ReLU / upsample / normalise tail: [h, w], owned by the caller. */
  saliency(input: FeatureInputs): tf.Tensor2D | Promise<tf.Tensor2D>;
}

export interface RegionMethod<Id extends string = string> extends MethodInfo<Id> {
  family: 'region';
  run(ctx: RegionContext, variant: RegionVariant): Promise<RegionResult>;
}

/** Fusion-CAM's steps are pure functions over two maps and a probe (../fusion.ts). */
export interface FusionMethod<Id extends string = string> extends MethodInfo<Id> {
  family: 'fusion';
}

export type CamMethod = FeatureMapMethod | RegionMethod | FusionMethod;

/** Keep a method's id a literal type, so the registry's id unions are derived from it. */
export const featureMapMethod = <const Id extends string>(m: FeatureMapMethod<Id>): FeatureMapMethod<Id> => m;
export const regionMethod = <const Id extends string>(m: RegionMethod<Id>): RegionMethod<Id> => m;
export const fusionMethod = <const Id extends string>(m: FusionMethod<Id>): FusionMethod<Id> => m;
