/**
 * Fusion-CAM steps 1–5 (docs/method.md §3), independent of any model: the class probability of a masked
 * input comes from a `probe`, so the same code runs on a real network and on the spec's toy
 * example. Steps 1–4 depend on θ and the weights; step 5 only on τ.
 */
import { denoiseGradientMap, isConstant, normalizeMap, similarityFusion, weightedSum, type FusionVariant } from './maps';

export type ContributionWeights = { mode: 'auto' } | { mode: 'manual'; gradientShare: number };

export interface FusionParams {
  /** Denoise percentile θ ∈ [0, 100). */
  theta: number;
  /** Agreement tolerance τ > 0 (1 in the paper). */
  tau: number;
  variant: FusionVariant;
  weights: ContributionWeights;
}

export const DEFAULT_FUSION_PARAMS: FusionParams = { theta: 10, tau: 1, variant: 'reference', weights: { mode: 'auto' } };

export interface Probe {
  /** p_b = p_c(x_b). */
  baseline: number;
  /** p_c(x ⊙ M) for an H×W mask M. */
  probability(mask: Float32Array): Promise<number>;
}

export interface FusionBetas {
  /** p_b */
  baseline: number;
  /** Step 2, raw: β_g = p_c(x ⊙ L_gd) − p_b, β_r = p_c(x ⊙ L_r) − p_b. */
  gradient: number;
  region: number;
  /** Step 3 weights actually used for L_dr (normalised in reference; raw in xplain; γ, 1 − γ when manual). */
  gradientStep3: number;
  regionStep3: number;
  /** Step 4, raw: β_dr = p_c(x ⊙ L_dr) − p_b. */
  combined: number;
  /** Step 5 weights actually used: L1 = combinedStep5·L_dr, L2 = regionStep5·L_r. */
  combinedStep5: number;
  regionStep5: number;
}

/** Everything up to (not including) step 5. */
export interface CombinedStage {
  params: Omit<FusionParams, 'tau'>;
  gradient: Float32Array;
  region: Float32Array;
  denoised: Float32Array;
  threshold: number;
  combined: Float32Array;
  betas: FusionBetas;
  warnings: string[];
  /** Masked forward passes this stage ran. */
  forwardPasses: number;
}

export interface FusionResult extends CombinedStage {
  tau: number;
  map: Float32Array;
}

const EPS = 1e-8;

function normalizePair(a: number, b: number): [number, number] {
  const t = a + b + EPS;
  return [a / t, b / t];
}

export function validateFusionParams(p: Partial<FusionParams>): void {
  if (p.theta !== undefined && !(p.theta >= 0 && p.theta < 100)) throw new Error(`θ must be in [0, 100), got ${p.theta}`);
  if (p.tau !== undefined && !(p.tau > 0 && Number.isFinite(p.tau))) throw new Error(`τ must be a positive number, got ${p.tau}`);
  if (p.variant !== undefined && p.variant !== 'reference' && p.variant !== 'xplain') throw new Error(`Unknown variant "${p.variant}"`);
  if (p.weights?.mode === 'manual') {
    const g = p.weights.gradientShare;
    if (!(g >= 0 && g <= 1)) throw new Error(`The manual gradient share γ must be in [0, 1], got ${g}`);
  }
}

/**
 * Steps 1–4. `regionProbability` (p_c(x ⊙ L_r)) may be passed in when cached; it does not
 * depend on θ. Two forward passes otherwise: β_g and β_dr.
 */
export async function combineStage(
  gradient: Float32Array,
  region: Float32Array,
  params: Omit<FusionParams, 'tau'>,
  probe: Probe,
  regionProbability?: number,
): Promise<CombinedStage> {
  validateFusionParams(params);
  const { theta, variant, weights } = params;
  const warnings: string[] = [];
  let forwardPasses = 0;
  if (isConstant(gradient)) {
    warnings.push('The gradient map is all zero: all gradient evidence for this class is negative at this layer, so Fusion-CAM leans on the region map.');
  }
  if (isConstant(region)) warnings.push('The region map is constant: no activation map raised the class score.');

  // 1. denoise
  const { map: denoised, threshold } = denoiseGradientMap(gradient, theta, variant);
  // 2. contributions against the baseline
  const pb = probe.baseline;
  const pg = await probe.probability(denoised);
  forwardPasses++;
  let pr = regionProbability;
  if (pr === undefined) {
    pr = await probe.probability(region);
    forwardPasses++;
  }
  const betaG = pg - pb;
  const betaR = pr - pb;
  // 3. combine
  let wG: number;
  let wR: number;
  if (weights.mode === 'manual') {
    [wG, wR] = [weights.gradientShare, 1 - weights.gradientShare];
  } else if (variant === 'reference') {
    if (betaG + betaR <= 0) warnings.push(`Both masked inputs score at or below the baseline (β_g + β_r = ${(betaG + betaR).toExponential(2)} ≤ 0); the reference normalisation flips the signs of the weights.`);
    [wG, wR] = normalizePair(betaG, betaR);
  } else {
    [wG, wR] = [betaG, betaR];
  }
  const combined = normalizeMap(weightedSum(wG, denoised, wR, region), variant);
  if (isConstant(combined)) warnings.push('The combined map is constant.');
  // 4. weight of the combined map
  const pdr = await probe.probability(combined);
  forwardPasses++;
  const betaDR = pdr - pb;
  let w5DR: number;
  let w5R: number;
  if (variant === 'reference') {
    // β_r here is the value already normalised in step 3, as the official code does
    if (betaDR + wR <= 0) warnings.push(`β_dr + β_r = ${(betaDR + wR).toExponential(2)} ≤ 0 in step 4; the reference normalisation flips the signs.`);
    [w5DR, w5R] = normalizePair(betaDR, wR);
  } else {
    [w5DR, w5R] = [betaDR, weights.mode === 'manual' ? wR : betaR];
  }
  return {
    params: { theta, variant, weights },
    gradient,
    region,
    denoised,
    threshold,
    combined,
    betas: { baseline: pb, gradient: betaG, region: betaR, gradientStep3: wG, regionStep3: wR, combined: betaDR, combinedStep5: w5DR, regionStep5: w5R },
    warnings,
    forwardPasses,
  };
}

/** Step 5 only: no model call. */
export function fuseStage(stage: CombinedStage, tau: number): FusionResult {
  validateFusionParams({ tau });
  const map = similarityFusion(stage.combined, stage.betas.combinedStep5, stage.region, stage.betas.regionStep5, tau, stage.params.variant);
  const warnings = [...stage.warnings];
  if (isConstant(map)) warnings.push('The Fusion-CAM map is constant.');
  return { ...stage, warnings, tau, map };
}

