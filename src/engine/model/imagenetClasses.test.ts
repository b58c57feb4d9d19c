/** The bundled ImageNet names are the @tensorflow-models/mobilenet list they were taken from (kept as a devDependency for this check). */
import { describe, expect, it } from 'vitest';
import { IMAGENET_CLASSES as published } from '@tensorflow-models/mobilenet/dist/imagenet_classes';
import { IMAGENET_CLASSES } from './imagenetClasses';

describe('bundled ImageNet class names', () => {
  it('equal the published list, index for index', () => {
    expect(IMAGENET_CLASSES).toHaveLength(1000);
    expect(IMAGENET_CLASSES).toEqual(Array.from({ length: 1000 }, (_, i) => published[i]));
  });
});
