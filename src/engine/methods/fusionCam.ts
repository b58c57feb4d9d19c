/**
 * Fusion-CAM (Dekdegue et al. 2026; docs/method.md §3): a feature map (Grad-CAM by default) and a region
 * map (Score-CAM by default) fused by their contribution weights and pixel agreement. Its steps
 * are pure functions in ../fusion.ts (combineStage: steps 1–4, fuseStage: step 5); the session
 * runs them with its stage cache (θ costs two passes, τ none).
 */
import { fusionMethod } from './method';

export const fusionCam = fusionMethod({
  id: 'fusioncam',
  label: 'Fusion-CAM',
  family: 'fusion',
  needs: { gradients: true, forwardPasses: true },
});
