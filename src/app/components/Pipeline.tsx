/**
 * Fusion-CAM as a picture: each step a small map with one sentence, the contribution weights as
 * bars in plain words, and the raw β (Greek letters) in a disclosure. The agreement map is step 5
 * computed on the page (derived.ts), like the Fusion-CAM it explains.
 */
import { useMemo } from 'react';
import { useAppStore } from '../store';
import { agreementMap, useFusion, usePanelMaps } from '../derived';
import { panelTitle } from '../methodChoice';
import { valueRange } from '../render';
import { MapCanvas } from './Panels';

const fmt = (v: number) => (Math.abs(v) >= 0.001 || v === 0 ? v.toFixed(3) : v.toExponential(2));
const pc = (a: number, b: number) => {
  const s = a + b;
  return s > 0 ? Math.round((100 * Math.max(0, a)) / s) : 50;
};

function Step({ caption, text, map }: { caption: string; text: string; map: Float32Array | null }) {
  const range: [number, number] = map ? valueRange([map]) : [0, 1];
  return (
    <li className="step">
      <figure className="step-fig">
        <figcaption>{caption}</figcaption>
        <MapCanvas title={caption} label={`${caption} heatmap`} map={map} range={range} />
        <p className="step-text">{text}</p>
      </figure>
    </li>
  );
}

function Bars({ label, a, b, aName, bName }: { label: string; a: number; b: number; aName: string; bName: string }) {
  const p = pc(a, b);
  return (
    <div className="weight-bars">
      <p>
        {label}: <strong>{aName} counts {p} %</strong>, <strong>{bName} {100 - p} %</strong>.
      </p>
      <div className="bar" aria-hidden="true">
        <span className="bar-a" style={{ width: `${p}%` }} />
        <span className="bar-b" style={{ width: `${100 - p}%` }} />
      </div>
    </div>
  );
}

export function Pipeline() {
  const stage = useAppStore((s) => s.results.stage);
  const settings = useAppStore((s) => s.settings);
  const maps = usePanelMaps();
  const fusion = useFusion();
  const agreement = useMemo(() => (stage ? agreementMap(stage, settings.tau) : null), [stage, settings.tau]);
  const hasImage = useAppStore((s) => s.input.blob !== null);
  if (!hasImage) return null;
  const g = panelTitle('gradient', settings, 'Grad-CAM');
  const r = panelTitle('region', settings, 'Score-CAM');
  const b = stage?.betas;
  return (
    <section className="card pipeline" aria-label="How Fusion-CAM is made">
      <h2>How Fusion-CAM is made</h2>
      {!stage ? (
        <p className="hint">The five steps appear here once {r} has finished.</p>
      ) : (
        <>
          <ol className="steps">
            <Step caption={`${g} input`} text={`The gradient map, as computed (the ${g} above).`} map={maps.gradient} />
            <Step caption={`Denoised ${g}`} text={`The weakest ${settings.theta} % of its pixels set to zero (θ = ${settings.theta}).`} map={stage.denoised} />
            <Step caption={`${r} region map`} text="The region map, the second opinion." map={stage.region} />
            <Step caption="Combined map" text="The two added, each weighted by how much it alone keeps the class score." map={stage.combined} />
            <Step caption="Agreement map" text={`Where combined and region maps agree (1) or differ by τ = ${settings.tau.toFixed(2)} or more (0).`} map={agreement} />
            <Step caption="Fusion-CAM result" text="Where they agree, the stronger value is kept; elsewhere, the two are averaged." map={fusion?.map ?? null} />
          </ol>
          {b && (
            <>
              <Bars label="In the combined map" a={b.gradientStep3} b={b.regionStep3} aName={`denoised ${g}`} bName={r} />
              <Bars label="In the final blend" a={b.combinedStep5} b={b.regionStep5} aName="the combined map" bName={r} />
              <details className="raw-betas">
                <summary>Exact weights (β, as in the paper)</summary>
                <ul className="notes info">
                  <li>
                    β_g {fmt(b.gradient)} · β_r {fmt(b.region)} · β_dr {fmt(b.combined)} (baseline p_b {fmt(b.baseline)})
                  </li>
                  <li>
                    step 3 weights {fmt(b.gradientStep3)} / {fmt(b.regionStep3)} · step 5 weights {fmt(b.combinedStep5)} / {fmt(b.regionStep5)} · threshold P_θ {fmt(stage.threshold)}
                  </li>
                </ul>
              </details>
            </>
          )}
        </>
      )}
    </section>
  );
}
