/** Image input, predictions and every setting, each with a visible label and keyboard access. */
import { useId, useState, type ReactNode } from 'react';
import { useAppStore } from '../store';
import { COLORMAP_IDS, type ColormapId } from '../colormaps';
import { loadCheckedImage as loadImage } from '../imageCheck';
import { exportAll } from '../export';
import { shortLabel, useTargetClass } from '../derived';
import { ColorBar } from './ColorBar';
import { ClassRangeNotice } from './ClassRangeNotice';
import { MethodControls } from './MethodControls';
import { LayerPicker } from './LayerPicker';
import { CustomModelDrop } from './CustomModelDrop';
import type { FusionVariant } from '../../engine/maps';
import type { ScaleMode, WeightsMode } from '../store/settings';

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

function Slider(props: { label: string; min: number; max: number; step: number; value: number; onChange(v: number): void; disabled?: boolean; format?(v: number): string; hint?: string }) {
  const id = useId();
  const { label, min, max, step, value, onChange, disabled, format, hint } = props;
  return (
    <div className="field">
      <div className="field-head">
        <label htmlFor={id}>{label}</label>
        <output htmlFor={id}>{format ? format(value) : value}</output>
      </div>
      <input id={id} type="range" min={min} max={max} step={step} value={value} disabled={disabled} onChange={(e) => onChange(Number(e.currentTarget.value))} />
      {hint && <div className="hint">{hint}</div>}
    </div>
  );
}

function Select<T extends string>(props: { label: string; value: T; options: { value: T; label: string }[]; onChange(v: T): void; disabled?: boolean }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={props.value} disabled={props.disabled} onChange={(e) => props.onChange(e.currentTarget.value as T)}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export async function fetchImageUrl(url: string): Promise<Blob> {
  let u: URL;
  try {
    u = new URL(url, location.href);
  } catch {
    throw new Error(`"${url}" is not a valid URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:' && u.protocol !== 'data:' && u.protocol !== 'blob:') throw new Error('Only http(s) image URLs are supported');
  let res: Response;
  try {
    res = await fetch(u.href, { mode: 'cors', credentials: 'omit' });
  } catch {
    throw new Error('The image could not be downloaded (network error, or the site does not allow cross-origin use)');
  }
  if (!res.ok) throw new Error(`The image could not be downloaded (HTTP ${res.status})`);
  return res.blob();
}

function ImageInput() {
  const fileId = useId();
  const urlId = useId();
  const [url, setUrl] = useState('');
  const error = useAppStore((s) => s.input.error);
  const setInput = useAppStore((s) => s.setInput);
  return (
    <Section title="Image">
      <div className="field">
        <label htmlFor={fileId}>Image file</label>
        <input
          id={fileId}
          type="file"
          accept="image/*"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            if (f) void loadImage(f, f.name);
            e.currentTarget.value = '';
          }}
        />
      </div>
      <form
        className="field"
        onSubmit={(e) => {
          e.preventDefault();
          if (!url.trim()) return;
          fetchImageUrl(url.trim()).then(
            (b) => void loadImage(b, url.trim().split('/').pop()?.split('?')[0] || 'image'),
            (err: Error) => setInput({ error: err.message }),
          );
        }}
      >
        <label htmlFor={urlId}>Image URL</label>
        <div className="row">
          <input id={urlId} type="url" placeholder="https://…" value={url} onChange={(e) => setUrl(e.currentTarget.value)} />
          <button type="submit" className="secondary">
            Load
          </button>
        </div>
      </form>
      <p className="hint">…or drop an image anywhere on the page, or paste one (Ctrl+V).</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </Section>
  );
}

function Predictions() {
  const predictions = useAppStore((s) => s.results.predictions);
  const info = useAppStore((s) => s.model.info);
  const sessionError = useAppStore((s) => s.results.sessionError);
  const setSettings = useAppStore((s) => s.setSettings);
  const target = useTargetClass();
  return (
    <Section title="Top-5 classes">
      <ClassRangeNotice />
      {sessionError && (
        <p className="error" role="alert">
          {sessionError}
        </p>
      )}
      {predictions.length === 0 ? (
        <p className="hint">Predictions appear here; click one to explain it.</p>
      ) : (
        <ul className="predictions" aria-label="Top-5 predictions">
          {predictions.map((p) => {
            const label = info?.labels[p.index] ?? p.label;
            const name = shortLabel(label);
            const active = target?.index === p.index;
            return (
              <li key={p.index}>
                <button type="button" aria-label={name} aria-pressed={active} title={`${label} (class ${p.index})`} className={active ? 'pred active' : 'pred'} onClick={() => setSettings({ classIndex: p.index })}>
                  <span className="pred-name">{name}</span>
                  <span className="pred-prob">{(p.probability * 100).toFixed(1)}%</span>
                  <span className="pred-bar" style={{ width: `${Math.max(1, p.probability * 100)}%` }} />
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </Section>
  );
}

function ExplanationSettings() {
  const s = useAppStore((st) => st.settings);
  const set = useAppStore((st) => st.setSettings);
  const thetasReady = useAppStore((st) => st.results.thetasReady);
  // the helper worker scores the other θ values ahead (see engineWorker scoreThetasAhead)
  const thetaAhead = thetasReady >= 100 ? ' Every θ is ready: moving it runs no forward pass.' : thetasReady > 1 ? ` Scoring other θ ahead: ${thetasReady} of 100 ready.` : '';
  return (
    <Section title="Explanation">
      <MethodControls />
      <Select<FusionVariant>
        label="Variant"
        value={s.variant}
        options={[
          { value: 'reference', label: 'reference (official code)' },
          { value: 'xplain', label: 'xplain (Xplain-CAM)' },
        ]}
        onChange={(variant) => set({ variant })}
      />
      <Slider label="Denoise θ" min={0} max={99} step={1} value={s.theta} onChange={(theta) => set({ theta })} hint={`Percentile of the Grad-CAM map zeroed before fusion (paper: 10).${thetaAhead}`} />
      <Slider label="Agreement tolerance τ" min={0.05} max={2} step={0.05} value={s.tau} onChange={(tau) => set({ tau })} format={(v) => v.toFixed(2)} hint="How far two maps may differ and still agree (paper: 1)." />
      <Select<WeightsMode>
        label="Contribution weights"
        value={s.weightsMode}
        options={[
          { value: 'auto', label: 'auto (β from the model)' },
          { value: 'manual', label: 'manual' },
        ]}
        onChange={(weightsMode) => set({ weightsMode })}
      />
      <Slider label="Gradient share γ" min={0} max={1} step={0.05} value={s.gamma} disabled={s.weightsMode !== 'manual'} onChange={(gamma) => set({ gamma })} format={(v) => v.toFixed(2)} />
    </Section>
  );
}

function DisplaySettings() {
  const s = useAppStore((st) => st.settings);
  const set = useAppStore((st) => st.setSettings);
  const setUi = useAppStore((st) => st.setUi);
  const hasResults = useAppStore((st) => st.results.gradient !== null);
  const [busy, setBusy] = useState(false);
  return (
    <Section title="Display">
      <Select<ColormapId> label="Colormap" value={s.colormap} options={COLORMAP_IDS.map((c) => ({ value: c, label: c }))} onChange={(colormap) => set({ colormap })} />
      <ColorBar colormap={s.colormap} low={s.scale === 'shared' ? '0 (shared)' : 'low'} high={s.scale === 'shared' ? '1 (shared)' : 'high'} />
      <Slider label="Overlay opacity" min={0} max={1} step={0.05} value={s.opacity} onChange={(opacity) => set({ opacity })} format={(v) => `${Math.round(v * 100)}%`} />
      <Select<ScaleMode>
        label="Scale"
        value={s.scale}
        options={[
          { value: 'each', label: 'each map normalised alone' },
          { value: 'shared', label: 'shared scale' },
        ]}
        onChange={(scale) => set({ scale })}
      />
      <div className="field checkbox">
        <input id="show-intermediate" type="checkbox" checked={s.showIntermediate} onChange={(e) => set({ showIntermediate: e.currentTarget.checked })} />
        <label htmlFor="show-intermediate">Show intermediate maps</label>
      </div>
      <button
        type="button"
        disabled={!hasResults || busy}
        onClick={() => {
          setBusy(true);
          exportAll()
            .then(() => setUi({ notice: 'Composite exported.' }))
            .catch((e: unknown) => setUi({ notice: `Export failed: ${(e as Error).message}` }))
            .finally(() => setBusy(false));
        }}
      >
        Export all
      </button>
    </Section>
  );
}

export function Sidebar() {
  return (
    <aside className="sidebar">
      <ImageInput />
      <Predictions />
      <ExplanationSettings />
      <LayerPicker />
      <DisplaySettings />
      <CustomModelDrop />
    </aside>
  );
}
