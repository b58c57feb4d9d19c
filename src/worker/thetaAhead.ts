/**
 * θ scored ahead: once a Fusion-CAM is shown, the idle helper engine scores steps 1–4 for every
 * other θ of the slider (nearest first) and the session is seeded with them, so moving θ then
 * costs no forward pass on the engine. Pauses while the page sees input; stops when the image,
 * class, variant, weights or methods change.
 */
import type { ExplanationSession } from '../engine/session';
import type { ContributionWeights } from '../engine/fusion';
import type { FusionVariant } from '../engine/maps';
import type { GradientMethodId, RegionMethodId } from '../engine/methods/registry';
import { thetaSliderValues } from '../engine/thetaSlider';
import { CONTROL, type WorkerReply } from './protocol';
import type { HelperEngine } from './helperEngine';

/** θ values the helper scores per request: small, so a new image's Score-CAM waits little for it. */
const THETAS_PER_REQUEST = 4;

export interface ThetaAheadRequest {
  gen: number;
  classIndex: number;
  theta: number;
  variant: FusionVariant;
  weights: ContributionWeights;
  gradientMethod?: GradientMethodId;
  regionMethod?: RegionMethodId;
}

export interface ThetaAheadHost {
  control(): Int32Array | null;
  helper(): HelperEngine | null;
  /** The current session, its model input and key for the helper. */
  session(): ExplanationSession | null;
  sessionInput(): Float32Array | null;
  sessionKey(): string;
  latestGen(): number;
  post(m: WorkerReply): void;
}

export class ThetaAheadScheduler {
  enabled = true;
  /** Bumped by every Fusion-CAM shown: an older run stops at its next chunk. */
  private run = 0;
  private inputSeen = -1;
  private inputChangedAt = 0;

  constructor(private readonly host: ThetaAheadHost) {}

  /**
   * Resolves once the page has seen no input event for `quietMs` (the shared inputCount word):
   * on two cores the helper's background passes would otherwise slow the redraws the user is
   * waiting for. Without shared memory it resolves at once.
   */
  private async userIdle(quietMs: number): Promise<void> {
    const control = this.host.control();
    if (!control) return;
    for (;;) {
      const count = Atomics.load(control, CONTROL.inputCount);
      // a change seen now happened at most since the last look: counted from now (conservative)
      if (count !== this.inputSeen) {
        this.inputSeen = count;
        this.inputChangedAt = performance.now();
      }
      if (performance.now() - this.inputChangedAt >= quietMs) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async scoreAhead(s: ExplanationSession, req: ThetaAheadRequest): Promise<void> {
    const run = ++this.run;
    const { host } = this;
    const input = host.sessionInput();
    if (!this.enabled || !host.helper()?.usable || !input) return;
    const stale = () => run !== this.run || s !== host.session() || req.gen < host.latestGen();
    const c = req.classIndex;
    const gradientMethod = req.gradientMethod ?? 'gradcam';
    const method = req.regionMethod ?? 'scorecam';
    const params = { variant: req.variant, weights: req.weights };
    const opts = { variant: req.variant, gradientMethod, method };
    const [grad, region, baseline] = await Promise.all([s.gradientMap(c, gradientMethod, req.variant), s.regionMap(c, { method, variant: req.variant }), s.baselineProbability(c)]);
    const maps = { gradient: grad.map, region: region.map, baseline, regionProbability: await s.maskedProbability(c, region.map) };
    const sliderThetas = thetaSliderValues();
    const ready = (theta: number) => s.hasFusionStage(c, { ...params, theta }, opts);
    const thetas = sliderThetas.filter((theta) => !ready(theta)).sort((a, b) => Math.abs(a - req.theta) - Math.abs(b - req.theta) || a - b);
    const report = () => host.post({ type: 'thetasAhead', gen: req.gen, classIndex: c, ready: sliderThetas.filter(ready).length, total: sliderThetas.length });
    report();
    for (let i = 0; i < thetas.length; i += THETAS_PER_REQUEST) {
      await this.userIdle(300);
      const helper = host.helper();
      if (stale() || !helper?.usable) return;
      // the user may have reached some of these meanwhile
      const chunk = thetas.slice(i, i + THETAS_PER_REQUEST).filter((theta) => !ready(theta));
      if (chunk.length === 0) continue;
      const answers = await helper.fusionStages({ key: host.sessionKey(), input, layer: s.layer, classIndex: c, maps, params, thetas: chunk, batchSize: THETAS_PER_REQUEST });
      // kept even if a newer run started: same session, same keys (only two numbers per θ)
      if (s !== host.session() || req.gen < host.latestGen()) return;
      s.seedFusionStages(c, params, opts, answers);
      report();
    }
  }
}
