/**
 * The one dispatch from a method id to its map, for every caller (CLI explain and evaluate, the
 * evaluation jobs in the worker, the library): it looks the method up in the registry and runs
 * it through the session's caches, so a caller never writes "if gradient … else if region …".
 */
import { CamError } from './errors';
import type { ContributionWeights, FusionResult } from './fusion';
import type { FusionVariant } from './maps';
import type { RegionProgress, RegionResult, RegionVariant } from './methods/region';
import { METHOD_IDS, methodById, type GradientMethodId, type MethodId, type RegionMethodId } from './methods/registry';
import type { ExplanationSession, GradientMapResult } from './session';

export interface MapOptions {
  /** Default: the predicted class. */
  classIndex?: number;
  /** Fusion-CAM's variant, and N's for the feature maps (reference | xplain). Default reference. */
  variant?: FusionVariant;
  /** The region methods' variant (reference | xplain | original). Default: `variant`. */
  regionVariant?: RegionVariant;
  /** Fusion-CAM's two branches. Default Grad-CAM × Score-CAM. */
  gradientMethod?: GradientMethodId;
  regionMethod?: RegionMethodId;
  /** Fusion-CAM's θ (default 10), τ (default 1) and contribution weights (default auto). */
  theta?: number;
  tau?: number;
  weights?: ContributionWeights;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?(p: RegionProgress): void;
  /** Region passes shared with a helper engine (see RegionRunOptions.remoteScores). */
  remoteScores?(channels: number[]): Promise<Float32Array>;
  orderByGradient?: boolean;
}

interface MapBase {
  method: MethodId;
  classIndex: number;
  /** H×W in [0, 1] at the model's input resolution. */
  map: Float32Array;
  /** What the CLI writes to its JSON per method. */
  details: Record<string, unknown>;
}

export type ComputedMap =
  | (MapBase & { family: 'gradient' | 'activation'; result: GradientMapResult })
  | (MapBase & { family: 'region'; result: RegionResult })
  | (MapBase & { family: 'fusion'; result: FusionResult });

/** Refuses an unknown method with the list of known ones. */
export function checkMethodId(id: string): MethodId {
  if (!methodById(id)) throw new CamError(`Unknown method "${id}" (known: ${METHOD_IDS.join(', ')})`);
  return id as MethodId;
}

export async function computeMap(session: ExplanationSession, methodId: string, opts: MapOptions = {}): Promise<ComputedMap> {
  const method = methodById(checkMethodId(methodId))!;
  const c = opts.classIndex ?? session.predictedClass;
  const variant = opts.variant ?? 'reference';
  const regionVariant = opts.regionVariant ?? variant;
  const run = { batchSize: opts.batchSize, signal: opts.signal, onProgress: opts.onProgress, remoteScores: opts.remoteScores, orderByGradient: opts.orderByGradient };
  const base = { method: method.id as MethodId, classIndex: c };
  switch (method.family) {
    case 'gradient':
    case 'activation': {
      const g = await session.gradientMap(c, method.id as GradientMethodId, variant);
      return { ...base, family: method.family, map: g.map, result: g, details: { allZero: g.allZero, warnings: g.warnings } };
    }
    case 'region': {
      const r = await session.regionMap(c, { ...run, method: method.id as RegionMethodId, variant: regionVariant });
      return { ...base, family: 'region', map: r.map, result: r, details: { variant: regionVariant, forwardPasses: r.forwardPasses, constantChannels: r.constantChannels } };
    }
    case 'fusion': {
      const gradientMethod = opts.gradientMethod ?? 'gradcam';
      const regionMethod = opts.regionMethod ?? 'scorecam';
      const theta = opts.theta ?? 10;
      const tau = opts.tau ?? 1;
      const weights = opts.weights ?? { mode: 'auto' };
      const f = await session.fusion(c, { theta, tau, variant, weights }, { ...run, gradientMethod, method: regionMethod, variant: regionVariant });
      return {
        ...base,
        family: 'fusion',
        map: f.map,
        result: f,
        details: { variant, gradientMethod, regionMethod, regionVariant, theta, tau, weights, threshold: f.threshold, betas: f.betas, warnings: f.warnings },
      };
    }
  }
}
