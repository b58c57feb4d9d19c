/**
 * The CLI's options, defined and validated once for every command. A flag is one entry in
 * FLAGS (its parseArgs type); a command lists the flags it takes and reads them back typed;
 * the values shared by explain and evaluate (methods, variants, θ, τ, …) are checked in one place,
 * so both commands give the same message for the same mistake. A new option is one FLAGS entry,
 * plus a checker here if more than one command reads it.
 */
import { parseArgs } from 'node:util';
import type { FusionVariant } from '../engine/maps';
import type { ResizeMethod } from '../engine/image';
import type { RegionVariant } from '../engine/methods/region';
import { GRADIENT_METHOD_IDS, isGradientMethodId, isRegionMethodId, METHOD_IDS, methodById, REGION_METHOD_IDS, type GradientMethodId, type RegionMethodId } from '../engine/methods/registry';
import { defaultWorkerCount } from '../node/scoreWorkers';

/** A user mistake: print the message (and usage hint) and exit 2. */
export class UsageError extends Error {}

type Flag = { type: 'string'; multiple?: boolean; short?: string } | { type: 'boolean'; short?: string };

/** Every flag of every command, by name. */
export const FLAGS = {
  model: { type: 'string' },
  image: { type: 'string', multiple: true },
  images: { type: 'string' },
  map: { type: 'string' },
  layer: { type: 'string' },
  class: { type: 'string' },
  'class-source': { type: 'string' },
  'class-names': { type: 'string' },
  methods: { type: 'string' },
  variant: { type: 'string' },
  'region-variant': { type: 'string' },
  /** the old name of --region-variant, still accepted */
  'scorecam-variant': { type: 'string' },
  'gradient-method': { type: 'string' },
  'region-method': { type: 'string' },
  theta: { type: 'string' },
  tau: { type: 'string' },
  'gradient-share': { type: 'string' },
  batch: { type: 'string' },
  step: { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  preprocessing: { type: 'string' },
  labels: { type: 'string' },
  resize: { type: 'string' },
  colormap: { type: 'string' },
  opacity: { type: 'string' },
  'save-input': { type: 'boolean' },
  json: { type: 'boolean' },
  resume: { type: 'boolean' },
  workers: { type: 'string' },
  shard: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, Flag>;

export type FlagName = keyof typeof FLAGS;

type FlagValue<F> = F extends { type: 'boolean' } ? boolean : F extends { multiple: true } ? string[] : string;

/** The parsed flags of a command: each one undefined when not given. */
export type FlagValues<N extends FlagName> = { [K in N]?: FlagValue<(typeof FLAGS)[K]> };

/** Parses `argv` against the named flags; an unknown flag or a missing value is a UsageError. */
export function parseFlags<N extends FlagName>(argv: string[], names: readonly N[]): FlagValues<N> {
  const options: Record<string, Flag> = {};
  for (const n of names) options[n] = FLAGS[n];
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values as FlagValues<N>;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `expected` says what a valid value is ("a number in [0, 100)"), so the error line is actionable. */
export function numberArg(value: string | undefined, name: string, fallback: number, check?: (v: number) => boolean, expected?: string): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || (check && !check(v))) {
    throw new UsageError(expected ? `--${name} must be ${expected}, got "${value}"` : `--${name} has an invalid value "${value}"`);
  }
  return v;
}

const wholeAtLeast1 = (v: number) => Number.isInteger(v) && v >= 1;

/** A whole number ≥ 1 (batch sizes, steps, limits). */
export function countArg(value: string | undefined, name: string, fallback: number): number {
  return numberArg(value, name, fallback, wholeAtLeast1, 'a whole number ≥ 1');
}

export function listArg(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** --workers: engines for Score-CAM (the main thread and N − 1 worker threads). */
export function workersArg(value: string | undefined): number {
  return numberArg(value, 'workers', defaultWorkerCount(), (v) => Number.isInteger(v) && v >= 1 && v <= 64, 'a whole number from 1 to 64');
}

export function resizeArg(value: string | undefined): ResizeMethod {
  const resize = (value ?? 'bilinear') as ResizeMethod;
  if (resize !== 'bilinear' && resize !== 'pillow') throw new UsageError(`--resize must be bilinear (TF.js resizeBilinear, the app's) or pillow (torchvision/PIL), got "${value}"`);
  return resize;
}

/** --class: undefined (the predicted class) or a class index (its range is checked against the model). */
export function classArg(value: string | undefined): number | undefined {
  return value === undefined ? undefined : numberArg(value, 'class', 0, (v) => Number.isInteger(v) && v >= 0, 'a class index (a whole number ≥ 0)');
}

/** What explain and evaluate compute, from their shared flags. */
export interface MethodSettings {
  methods: string[];
  variant: FusionVariant;
  regionVariant: RegionVariant;
  gradientMethod: GradientMethodId;
  regionMethod: RegionMethodId;
  theta: number;
  tau: number;
  batchSize: number;
}

/** The flags methodSettings reads. */
export const METHOD_FLAGS = ['methods', 'variant', 'region-variant', 'scorecam-variant', 'gradient-method', 'region-method', 'theta', 'tau', 'batch'] as const satisfies readonly FlagName[];

export function methodSettings(a: FlagValues<(typeof METHOD_FLAGS)[number]>): MethodSettings {
  const variant = (a.variant ?? 'reference') as FusionVariant;
  if (variant !== 'reference' && variant !== 'xplain') throw new UsageError(`--variant must be reference or xplain, got "${a.variant}"`);
  const regionVariant = (a['region-variant'] ?? a['scorecam-variant'] ?? variant) as RegionVariant;
  if (!['reference', 'xplain', 'original'].includes(regionVariant)) throw new UsageError('--region-variant must be reference, xplain or original');
  const gradientMethod = a['gradient-method'] ?? 'gradcam';
  if (!isGradientMethodId(gradientMethod)) throw new UsageError(`--gradient-method must be one of ${GRADIENT_METHOD_IDS.join(', ')}`);
  const regionMethod = a['region-method'] ?? 'scorecam';
  if (!isRegionMethodId(regionMethod)) throw new UsageError(`--region-method must be one of ${REGION_METHOD_IDS.join(', ')}`);
  const methods = listArg(a.methods, ['gradcam', 'scorecam', 'fusioncam']);
  if (methods.length === 0) throw new UsageError('--methods is empty');
  for (const m of methods) if (!methodById(m)) throw new UsageError(`Unknown method "${m}" (known: ${METHOD_IDS.join(', ')})`);
  const theta = numberArg(a.theta, 'theta', 10, (v) => v >= 0 && v < 100, 'a percentile in [0, 100)');
  const tau = numberArg(a.tau, 'tau', 1, (v) => v > 0, 'a number above 0');
  const batchSize = countArg(a.batch, 'batch', 32);
  return { methods, variant, regionVariant, gradientMethod, regionMethod, theta, tau, batchSize };
}
