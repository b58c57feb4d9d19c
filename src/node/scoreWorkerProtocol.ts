/**
 * Messages between the CLI's main thread and its Score-CAM worker threads (scoreWorker.ts): the
 * Node counterpart of src/worker/helperEngineProtocol.ts. Everything here is structured-cloneable.
 */
import type { RegionVariant } from '../engine/methods/region';
import type { NodeBackend } from './backend';

/** How to load the model: the CLI's own --model / --preprocessing / --labels values. */
export interface ScoreWorkerModel {
  model: string;
  preprocessing?: string;
  labels?: string;
}

export type ScoreWorkerRequest =
  | { type: 'init'; backend: NodeBackend; model: ScoreWorkerModel }
  /** A new image or layer: the worker builds its session from this input (model input space, H×W×3). */
  | { type: 'session'; key: number; input: Float32Array; layer: string }
  | { type: 'scores'; id: number; key: number; classIndex: number; variant: RegionVariant; channels: number[]; batchSize: number };

export type ScoreWorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'scores'; id: number; values: Float32Array }
  /** `id` absent: the worker could not start (backend or model), so it is of no use. */
  | { type: 'error'; id?: number; message: string };
