/**
 * Messages between the engine worker and its helper worker (a second engine on the second core:
 * Score-CAM batches, the layer picker's thumbnails, θ scored ahead; see helperEngineWorker.ts). Everything
 * here is structured-cloneable.
 */
import type { ModelDescriptor, Preprocessing } from '../engine/model/descriptor';
import type { RegionVariant } from '../engine/methods/region';
import type { FusionParams } from '../engine/fusion';
import type { ModelDetails } from './modelProtocol';

/** A model's files and how to read them, as plain data (a copy of the engine worker's source). */
export interface PortableModelSource {
  modelId: string;
  source: ModelDetails['source'];
  kind: ModelDetails['kind'];
  name: string;
  files: { name: string; data: ArrayBuffer }[];
  registry?: ModelDescriptor;
  preprocessing: Preprocessing;
  chosen: boolean;
}

/** Which session of the helper a request runs in (see sessionFor in helperEngineWorker.ts). */
export interface HelperSessionRef {
  id: number;
  version: number;
  /** Image generation and layer: a new key means a new session (the input is sent every time, used only then). */
  key: string;
  input: Float32Array;
  layer: string;
  classIndex: number;
}

export type HelperRequest =
  | { type: 'init'; wasmBuild: 'auto' | 'simd' | 'plain' }
  | { type: 'model'; version: number; src: PortableModelSource }
  | (HelperSessionRef & { type: 'scores'; variant: RegionVariant; channels: number[]; batchSize: number })
  /** The layer picker's thumbnails for these layers, all from one forward and backward pass. */
  | { type: 'thumbs'; id: number; version: number; input: Float32Array; layers: string[]; classIndex: number; size: number }
  /** Fusion-CAM steps 1–4 scored ahead for these θ (ExplanationSession.fusionStageProbabilities). */
  | (HelperSessionRef & {
      type: 'fusionStages';
      maps: { gradient: Float32Array; region: Float32Array; baseline: number; regionProbability: number };
      params: Omit<FusionParams, 'tau' | 'theta'>;
      thetas: number[];
      batchSize: number;
    });

/** A layer-picker thumbnail (a small Grad-CAM at one layer), computed by the helper. */
export interface HelperThumb {
  map: Float32Array;
  size: [number, number];
  allZero: boolean;
  error?: string;
}

export type HelperReply =
  | { type: 'ready'; backend: string }
  | { type: 'scores'; id: number; values: Float32Array }
  | { type: 'thumbs'; id: number; thumbs: HelperThumb[] }
  | { type: 'fusionStages'; id: number; answers: { theta: number; probabilities: number[] }[] }
  | { type: 'error'; id?: number; message: string };
