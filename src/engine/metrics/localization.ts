/**
 * Localisation metrics for maps at model-input resolution, when object boxes are known.
 * A pixel (row y, column x) covers [x, x+1)×[y, y+1); it is inside a box [x0, y0, x1, y1]
 * (model-input pixel coordinates, x1/y1 exclusive edges) when its centre (x+½, y+½) is.
 *
 * - Pointing game (Zhang et al.): a hit when the map's maximum (the first one in row-major
 *   order, as numpy.argmax) lies inside any box.
 * - Energy-based pointing game (Wang et al., Score-CAM): the share of the map's total mass that
 *   lies inside the union of the boxes.
 */
import { CamError } from '../errors';

/** [x0, y0, x1, y1] */
export type Box = [number, number, number, number];

/** Boxes given in an image of imageWidth×imageHeight pixels → model input W×H (the whole image is resized, no crop). */
export function boxesToInput(boxes: Box[], imageWidth: number, imageHeight: number, inputSize: [number, number]): Box[] {
  const [H, W] = inputSize;
  if (!(imageWidth > 0 && imageHeight > 0)) throw new CamError(`Image size ${imageWidth}×${imageHeight} is not valid for box rescaling`, 'bad-boxes');
  const sx = W / imageWidth;
  const sy = H / imageHeight;
  return boxes.map(([x0, y0, x1, y1]) => [x0 * sx, y0 * sy, x1 * sx, y1 * sy]);
}

/** 1 for pixels inside any box (union), else 0. */
export function boxMask(boxes: Box[], inputSize: [number, number]): Uint8Array {
  const [H, W] = inputSize;
  const mask = new Uint8Array(H * W);
  for (const [x0, y0, x1, y1] of boxes) {
    if (![x0, y0, x1, y1].every(Number.isFinite)) throw new CamError('A box has a non-numeric coordinate', 'bad-boxes');
    const c0 = Math.max(0, Math.ceil(Math.min(x0, x1) - 0.5));
    const c1 = Math.min(W - 1, Math.floor(Math.max(x0, x1) - 0.5));
    const r0 = Math.max(0, Math.ceil(Math.min(y0, y1) - 0.5));
    const r1 = Math.min(H - 1, Math.floor(Math.max(y0, y1) - 0.5));
    for (let y = r0; y <= r1; y++) mask.fill(1, y * W + c0, y * W + c1 + 1);
  }
  return mask;
}

export function argmax(map: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  return best;
}

/** 1 when the map's maximum falls inside a box. */
export function pointingGame(map: ArrayLike<number>, boxes: Box[], inputSize: [number, number]): 0 | 1 {
  checkSize(map, inputSize);
  return boxMask(boxes, inputSize)[argmax(map)] ? 1 : 0;
}

/** Σ_inside L / Σ L (0 for an all-zero map). Negative values are not expected in a normalised map. */
export function energyPointingGame(map: ArrayLike<number>, boxes: Box[], inputSize: [number, number]): number {
  checkSize(map, inputSize);
  const mask = boxMask(boxes, inputSize);
  let inside = 0;
  let total = 0;
  for (let i = 0; i < map.length; i++) {
    total += map[i];
    if (mask[i]) inside += map[i];
  }
  return total > 0 ? inside / total : 0;
}

function checkSize(map: ArrayLike<number>, [H, W]: [number, number]): void {
  if (map.length !== H * W) throw new CamError(`The map has ${map.length} values; expected ${H}×${W}`, 'bad-map');
}
