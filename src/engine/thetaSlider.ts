/** The θ values the app offers (its slider) and the helper scores ahead: 0 ≤ θ < 100 (docs/method.md §3) in steps of 1. */
export const THETA_SLIDER = { min: 0, max: 99, step: 1 } as const;

export function thetaSliderValues(): number[] {
  const out: number[] = [];
  for (let t = THETA_SLIDER.min; t <= THETA_SLIDER.max; t += THETA_SLIDER.step) out.push(t);
  return out;
}

export const THETA_SLIDER_COUNT = thetaSliderValues().length;
