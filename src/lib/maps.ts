/** Map helpers for library users. */
import { resizeBilinear } from '../engine/maps';
import type { CamMap } from './explainer';

/** `map` resampled to width × height (bilinear, half-pixel centres, as the app and the CLI draw overlays). */
export function resizeMap(map: CamMap, width: number, height: number): CamMap {
  return { width, height, data: resizeBilinear(map.data, map.height, map.width, height, width) };
}
