/** Every region-family method by id; adding one means adding a module and a line here. */
import type { RegionCamMethod, RegionMethodId } from './region';
import { scoreCam } from './scoreCam';
import { groupCam } from './groupCam';
import { ablationCam } from './ablationCam';
import { unionCam } from './unionCam';

export const REGION_METHODS: Partial<Record<RegionMethodId, RegionCamMethod>> = {
  scorecam: scoreCam,
  groupcam: groupCam,
  ablationcam: ablationCam,
  unioncam: unionCam,
};
