/**
 * fusion-cam as a library: Grad-CAM, Score-CAM, Fusion-CAM and their families for TF.js image
 * classifiers, in Node (wasm, cpu) and in a browser (webgl, wasm, cpu, webgpu). The method is
 * described in docs/method.md, this API in docs/library.md.
 *
 * @packageDocumentation
 */
export {
  createExplainer,
  METHOD_IDS,
  liveTensors,
  type Explainer,
  type ExplainerOptions,
  type ExplainOptions,
  type ExplainProgress,
  type ExplainResult,
  type CamMap,
  type ClassScore,
  type MethodId,
} from './explainer';
export type { BackendName } from './backend';
export type { ImageInput, PixelImage } from './image';
/** A model file as a browser `File` provides it: a name (may include folders) and its bytes. */
export type { ModelFile } from '../engine/model/custom';
/** How a model was stored: a Keras LayersModel or a TF.js GraphModel. */
export type { ModelKind } from '../engine/model/loadModel';
/** Fusion-CAM's β values (steps 2–4), as `ExplainResult.details.fusioncam.betas`. */
export type { FusionBetas } from '../engine/fusion';
/** The error every bad input rejects with: one clear `message` and a short `code`. */
export { CamError, isAbortError } from '../engine/errors';
/** Decodes a PNG or JPEG file's bytes (Node: JPEG exactly as PIL decodes it) into `{ width, height, data }`. */
export { decodeImageBytes } from './decode';
/** Resamples a map (e.g. to the photo's size) with bilinear, half-pixel-centre interpolation. */
export { resizeMap } from './maps';
