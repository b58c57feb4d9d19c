/**
 * Ready-made models. Real users get the MobileNets from Google's public tfjs-models storage;
 * when a local model folder is configured (dev, tests, offline mirrors made by
 * `npm run models:fetch`) every model is read from `<localBase>/<folder>/model.json` instead.
 */
import { IMAGENET_CLASSES } from './imagenetClasses';
import { PREPROCESSING, type ModelDescriptor } from './descriptor';

export const GOOGLE_TFJS_MODELS = 'https://storage.googleapis.com/tfjs-models/tfjs/';

export const IMAGENET_LABELS: string[] = Array.from({ length: 1000 }, (_, i) => IMAGENET_CLASSES[i]);

export interface RegistryEntry {
  id: string;
  name: string;
  /** Folder name, both in Google's storage and in a local mirror. */
  folder: string;
  /** Only available from a local folder (not hosted by Google). */
  localOnly?: boolean;
  descriptor: Omit<ModelDescriptor, 'url' | 'id' | 'name'>;
  /** Approximate download size, for the UI. */
  sizeMB: number;
}

const mobilenet = (width: string, sizeMB: number): RegistryEntry => ({
  id: `mobilenet_v1_${width}_224`,
  name: `MobileNet v1 ${width} (224)`,
  folder: `mobilenet_v1_${width}_224`,
  sizeMB,
  descriptor: {
    preprocessing: PREPROCESSING.mobilenet,
    labels: IMAGENET_LABELS,
    defaultLayer: 'conv_pw_13_relu',
    output: 'probabilities',
  },
});

export const MODEL_REGISTRY: RegistryEntry[] = [
  mobilenet('0.25', 1.9),
  mobilenet('0.50', 5.3),
  mobilenet('0.75', 10.3),
  mobilenet('1.0', 16.9),
  {
    id: 'darknet_tiny',
    name: 'Darknet tiny',
    folder: 'darknet_tiny',
    localOnly: true,
    sizeMB: 4.2,
    descriptor: {
      preprocessing: PREPROCESSING.unit,
      // Darknet's own class order; the labels come with the local copy, relative to model.json
      labelsUrl: '../../labels/darknet_imagenet1k_names.json',
      defaultLayer: 'leaky_re_lu_15',
      output: 'logits',
    },
  },
];

export const DEFAULT_MODEL_ID = 'mobilenet_v1_0.75_224';

export function registryEntry(id: string): RegistryEntry {
  const e = MODEL_REGISTRY.find((m) => m.id === id);
  if (!e) throw new Error(`Unknown model "${id}" (known: ${MODEL_REGISTRY.map((m) => m.id).join(', ')})`);
  return e;
}

/**
 * The descriptor for a registry model. `localBase` (URL or path ending in '/') is the folder
 * holding `<folder>/model.json`; a `labelsUrl` is relative to that model.json.
 */
export function describeRegistryModel(id: string, localBase?: string): ModelDescriptor {
  const e = registryEntry(id);
  if (e.localOnly && !localBase) throw new Error(`${e.name} is only available from a local model folder`);
  const base = localBase ?? GOOGLE_TFJS_MODELS;
  return { id: e.id, name: e.name, url: `${base}${e.folder}/model.json`, ...e.descriptor };
}

/** The registry entry whose folder name is the last folder of a model path or URL, if any. */
export function registryEntryForPath(modelPath: string): RegistryEntry | undefined {
  const parts = modelPath.replace(/\\/g, '/').replace(/\/model\.json$/i, '').replace(/\/+$/, '').split('/');
  const folder = parts[parts.length - 1];
  return MODEL_REGISTRY.find((m) => m.folder === folder);
}
