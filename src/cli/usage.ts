/** Usage texts main.ts prints without loading a command (and so the engine and tfjs). */
import { WORKERS_USAGE } from './workers';

export const EXPLAIN_USAGE = `usage: fusion-cam explain --model <folder|model.json|URL> --image <file|folder> [--image …]
  [--layer NAME] [--class INDEX] [--methods gradcam,scorecam,fusioncam]
  [--variant reference|xplain] [--region-variant reference|xplain|original]
  [--gradient-method gradcam] [--region-method scorecam] [--theta 10] [--tau 1] [--gradient-share γ]
  [--batch 32] [--backend wasm|cpu] [--preprocessing mobilenet|unit|imagenet|raw] [--labels FILE]
  [--resize bilinear|pillow] [--colormap turbo] [--opacity 0.5] [--save-input] [--workers 2] [--out DIR]
  ${WORKERS_USAGE}`;
