/** Every region-family method by id; adding one means adding a module and a line here. */
import type { RegionCamMethod, RegionMethodId } from './region';
import { scoreCam } from './scoreCam';

export const REGION_METHODS: Partial<Record<RegionMethodId, RegionCamMethod>> = {
  scorecam: scoreCam,
};
