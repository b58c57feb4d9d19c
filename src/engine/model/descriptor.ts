/**
 * What the engine needs to know about a model beyond its weights: input size, how pixels become
 * the model's input, what the output means, the class names and a sensible target layer.
 */

/** Per-channel affine map from RGB in [0, 255] to the model's input space: `x_c = rgb_c·scale_c + offset_c`. */
export interface Preprocessing {
  id: string;
  label: string;
  scale: [number, number, number];
  offset: [number, number, number];
}

export const PREPROCESSING = {
  /** MobileNet v1 (Keras "tf" mode): RGB/127.5 − 1, so the baseline x_b = 0 is mid-grey. */
  mobilenet: { id: 'mobilenet', label: 'RGB/127.5 − 1 (range −1…1)', scale: [1 / 127.5, 1 / 127.5, 1 / 127.5], offset: [-1, -1, -1] },
  /** Darknet and many others: RGB/255. */
  unit: { id: 'unit', label: 'RGB/255 (range 0…1)', scale: [1 / 255, 1 / 255, 1 / 255], offset: [0, 0, 0] },
  /** torchvision ImageNet: (RGB/255 − mean)/std. */
  imagenet: {
    id: 'imagenet',
    label: '(RGB/255 − ImageNet mean)/std',
    scale: [1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)],
    offset: [-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225],
  },
  /** Raw pixel values. */
  raw: { id: 'raw', label: 'RGB as is (range 0…255)', scale: [1, 1, 1], offset: [0, 0, 0] },
} satisfies Record<string, Preprocessing>;

export type PreprocessingId = keyof typeof PREPROCESSING;

export function preprocessingById(id: string): Preprocessing {
  const p = (PREPROCESSING as Record<string, Preprocessing>)[id];
  if (!p) throw new Error(`Unknown preprocessing "${id}" (known: ${Object.keys(PREPROCESSING).join(', ')})`);
  return p;
}

export interface ModelDescriptor {
  id: string;
  name: string;
  /** model.json URL (browser) or path (Node). */
  url: string;
  preprocessing: Preprocessing;
  /** Class names in the model's own output order; `labels.length` must equal the number of outputs. */
  labels?: string[];
  /** Where to get `labels` if not given inline (JSON array of names). */
  labelsUrl?: string;
  /** The layer the CAMs are computed at unless the user picks another. */
  defaultLayer?: string;
  /** Informational: the published model ends in softmax or gives logits (the engine detects it either way). */
  output?: 'probabilities' | 'logits';
}
