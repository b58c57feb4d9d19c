/**
 * Worker messages for models the user brings (dropped files, a URL, a GraphModel), the
 * preprocessing choice and the layer picker's thumbnails. Kept apart from protocol.ts, which
 * only adds these unions to its own.
 */

/** A dropped or picked file, with its path inside a dropped folder ("my_model/model.json"). */
export interface ModelFileEntry {
  path: string;
  file: Blob;
}

/** What the model panel shows beyond LoadedModelInfo. */
export interface ModelDetails {
  modelId: string;
  /** Where the model came from. */
  source: 'registry' | 'files' | 'url';
  /** TF.js format: a LayersModel or a GraphModel. */
  kind: 'layers' | 'graph';
  /** The weights came from the browser's offline cache (no download). */
  fromCache: boolean;
  /** The preprocessing in use (a PREPROCESSING id). */
  preprocessing: string;
  /** Set when the preprocessing was guessed rather than known. */
  guess: { preprocessing: string; reason: string } | null;
  /** Where the class names come from, in one line. */
  labelsNote: string;
  /** GraphModels: whether gradients reach the default layer (Grad-CAM, Fusion-CAM). */
  gradient: { ok: boolean; reason?: string };
}

export type ModelRequest =
  | { type: 'loadModelFiles'; files: ModelFileEntry[] }
  | { type: 'loadModelUrl'; url: string }
  | { type: 'setPreprocessing'; id: string }
  | { type: 'layerThumbs'; gen: number; job: number; classIndex: number; size: number };

export type ModelReply =
  | { type: 'modelDetails'; details: ModelDetails }
  | { type: 'customModelProgress'; loaded: number; total: number }
  | { type: 'customModelError'; message: string }
  | {
      type: 'layerThumb';
      gen: number;
      job: number;
      classIndex: number;
      index: number;
      count: number;
      layer: string;
      /** Grad-CAM in [0, 1], size[0]×size[1]; empty when `error` is set. */
      map: Float32Array;
      size: [number, number];
      allZero: boolean;
      error?: string;
    };
