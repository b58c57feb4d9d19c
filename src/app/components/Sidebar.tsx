/**
 * The controls, each with a visible label and keyboard access: the input card (file, URL,
 * samples), the predictions and the class search, θ and τ (shown under Fusion-CAM), and the
 * settings groups that sit after the results (collapsible; closed by default on a narrow screen).
 */
import { useId, useMemo, useState, type ReactNode } from 'react';
import { useAppStore } from '../store';
import { COLORMAP_IDS, type ColormapId } from '../colormaps';
import { loadCheckedImage as loadImage } from '../imageCheck';
import { exportAll } from '../export';
import { shortLabel, useTargetClass } from '../derived';
import { ClassRangeNotice } from './ClassRangeNotice';
import { MethodControls } from './MethodControls';
import { LayerPicker } from './LayerPicker';
import { CustomModelDrop } from './CustomModelDrop';
import type { FusionVariant } from '../../engine/maps';
import { THETA_SLIDER, THETA_SLIDER_COUNT } from '../../engine/thetaSlider';
import type { ScaleMode, WeightsMode } from '../store/settings';

const narrow = () => typeof matchMedia !== 'undefined' && matchMedia('(max-width: 760px)').matches;

/** A settings group: a disclosure, open on a wide screen, closed on a phone. */
function Section({ title, children, open }: { title: string; children: ReactNode; open?: boolean }) {
  const [initial] = useState(() => open ?? !narrow());
  return (
    <details className="card group" open={initial}>
      <summary>
        <h2>{title}</h2>
      </summary>
      <section aria-label={title}>{children}</section>
    </details>
  );
}

export const SAMPLES = [
  { file: 'dog.jpg', label: 'Dog with a bicycle' },
  { file: 'eagle.jpg', label: 'Eagle' },
  { file: 'person.jpg', label: 'Person, dog and horse' },
  { file: 'scream.jpg', label: 'The Scream (painting)' },
];

export async function loadSample(file: string): Promise<void> {
  const setInput = useAppStore.getState().setInput;
  try {
    const res = await fetch(`${import.meta.env.BASE_URL}samples/${file}`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    await loadImage(await res.blob(), file);
  } catch (e) {
    setInput({ error: `The sample ${file} could not be loaded (${(e as Error).message}).` });
  }
}

export function SampleButtons({ size = 'small' }: { size?: 'small' | 'large' }) {
  return (
    <ul className={`samples ${size}`} aria-label="Sample photos">
      {SAMPLES.map((s) => (
        <li key={s.file}>
          <button type="button" className="sample" aria-label={`Sample: ${s.label}`} title={s.label} onClick={() => void loadSample(s.file)}>
            <img src={`${import.meta.env.BASE_URL}samples/${s.file.replace('.jpg', '.thumb.jpg')}`} alt="" width={size === 'large' ? 120 : 56} height={size === 'large' ? 90 : 42} />
            {size === 'large' && <span>{s.label}</span>}
          </button>
        </li>
      ))}
    </ul>
  );
}

function Slider(props: { label: string; min: number; max: number; step: number; value: number; onChange(v: number): void; disabled?: boolean; format?(v: number): string; hint?: ReactNode }) {
  const id = useId();
  const { label, min, max, step, value, onChange, disabled, format, hint } = props;
  return (
    <div className="field">
      <div className="field-head">
        <label htmlFor={id}>{label}</label>
        <output htmlFor={id}>{format ? format(value) : value}</output>
      </div>
      <input id={id} type="range" min={min} max={max} step={step} value={value} disabled={disabled} aria-describedby={hint ? `${id}-hint` : undefined} onChange={(e) => onChange(Number(e.currentTarget.value))} />
      {hint && (
        <div className="hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
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

/** The last input problem, said where the input is, until the next success or a dismiss. */
export function InputError() {
  const error = useAppStore((s) => s.input.error);
  const setInput = useAppStore((s) => s.setInput);
  if (!error) return null;
  return (
    <div className="error-box" role="alert">
      <span>{error}</span>
      <button type="button" className="ghost" aria-label="Dismiss the message" onClick={() => setInput({ error: null })}>
        ×
      </button>
    </div>
  );
}

export function ImageInput() {
  const fileId = useId();
  const urlId = useId();
  const [url, setUrl] = useState('');
  const setInput = useAppStore((s) => s.setInput);
  return (
    <div className="input-controls">
      <div className="input-actions" data-slot="input-actions">
        <label htmlFor={fileId} className="file-label button-like">
          <span aria-hidden="true" className="icon">⤒</span>
          Image file
        </label>
        <input
          id={fileId}
          className="visually-hidden"
          type="file"
          accept="image/*"
          onChange={(e) => {
            const files = Array.from(e.currentTarget.files ?? []);
            const f = files[0];
            if (f) void loadImage(f, f.name);
            if (files.length > 1) useAppStore.getState().setUi({ notice: `Explaining ${f.name}; ${files.length - 1} other file${files.length > 2 ? 's' : ''} ignored (${files.slice(1).map((x) => x.name).join(', ')}): one image at a time.` });
            e.currentTarget.value = '';
          }}
        />
      </div>
      <form
        className="field url-form"
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
      <p className="hint">…or drop a photo anywhere on the page, or paste one (Ctrl+V). It never leaves your machine.</p>
    </div>
  );
}

/** Search among every class of the model: type "tabby", pick it. */
export function ClassSearch() {
  const id = useId();
  const info = useAppStore((s) => s.model.info);
  const setSettings = useAppStore((s) => s.setSettings);
  const [q, setQ] = useState('');
  const matches = useMemo(() => {
    const t = q.trim().toLowerCase();
    if (!info || t.length < 2) return [];
    const out: { index: number; label: string }[] = [];
    for (let i = 0; i < info.labels.length && out.length < 8; i++) if (info.labels[i].toLowerCase().includes(t)) out.push({ index: i, label: info.labels[i] });
    return out;
  }, [q, info]);
  if (!info) return null;
  return (
    <div className="field class-search">
      <label htmlFor={id}>Explain another class</label>
      <input id={id} type="search" placeholder="Type a class, e.g. tabby" value={q} autoComplete="off" onChange={(e) => setQ(e.currentTarget.value)} />
      {q.trim().length >= 2 && (
        <ul className="class-matches" aria-label="Matching classes">
          {matches.length === 0 ? (
            <li className="hint">No class matches “{q.trim()}”.</li>
          ) : (
            matches.map((m) => (
              <li key={m.index}>
                <button
                  type="button"
                  className="secondary match"
                  onClick={() => {
                    setSettings({ classIndex: m.index });
                    setQ('');
                  }}
                >
                  {shortLabel(m.label)} <span className="muted small">#{m.index}</span>
                </button>
              </li>
            ))
          )}
        </ul>
      )}
    </div>
  );
}

export function Predictions() {
  const predictions = useAppStore((s) => s.results.predictions);
  const info = useAppStore((s) => s.model.info);
  const sessionError = useAppStore((s) => s.results.sessionError);
  const setSettings = useAppStore((s) => s.setSettings);
  const target = useTargetClass();
  if (predictions.length === 0 && !sessionError) return null;
  return (
    <section className="card" aria-label="What the model sees">
      <h2>What the model sees</h2>
      <ClassRangeNotice />
      {sessionError && (
        <p className="error" role="alert">
          {sessionError}
        </p>
      )}
      {predictions.length > 0 && (
        <ul className="predictions" aria-label="Top-5 predictions">
          {predictions.map((p) => {
            const label = info?.labels[p.index] ?? p.label;
            const name = shortLabel(label);
            const active = target?.index === p.index;
            return (
              <li key={p.index}>
                <button type="button" aria-label={name} aria-pressed={active} title={`${label} (class ${p.index})`} className={active ? 'pred active' : 'pred'} onClick={() => setSettings({ classIndex: p.index })}>
                  <span className="pred-name">{name}</span>
                  <span className="pred-prob" aria-hidden="true">{(p.probability * 100).toFixed(1)}%</span>
                  <span className="pred-bar" style={{ width: `${Math.max(1, p.probability * 100)}%` }} />
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <p className="hint">Click a class to explain it instead.</p>
      <ClassSearch />
    </section>
  );
}

/** θ and τ, under the Fusion-CAM they change, in plain words first. */
export function FusionSliders() {
  const s = useAppStore((st) => st.settings);
  const set = useAppStore((st) => st.setSettings);
  const thetasReady = useAppStore((st) => st.results.thetasReady);
  const thetaAhead = thetasReady >= THETA_SLIDER_COUNT ? ' Every value is ready: moving it is instant.' : thetasReady > 1 ? ` ${thetasReady} of ${THETA_SLIDER_COUNT} values ready ahead.` : '';
  return (
    <div className="fusion-sliders">
      <Slider
        label="Denoise θ"
        min={THETA_SLIDER.min}
        max={THETA_SLIDER.max}
        step={THETA_SLIDER.step}
        value={s.theta}
        onChange={(theta) => set({ theta })}
        hint={`Higher θ removes more of Grad-CAM's weak, noisy activations before the blend (the θ % weakest pixels are zeroed; paper: 10).${thetaAhead}`}
      />
      <Slider
        label="Agreement tolerance τ"
        min={0.05}
        max={2}
        step={0.05}
        value={s.tau}
        onChange={(tau) => set({ tau })}
        format={(v) => v.toFixed(2)}
        hint="Higher τ counts more pixels as agreeing, where Fusion-CAM keeps the stronger map; lower τ averages more (paper: 1)."
      />
    </div>
  );
}

function ExplanationSettings() {
  const s = useAppStore((st) => st.settings);
  const set = useAppStore((st) => st.setSettings);
  return (
    <Section title="Method">
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
      <Slider label="Overlay opacity" min={0} max={1} step={0.05} value={s.opacity} onChange={(opacity) => set({ opacity })} format={(v) => `${Math.round(v * 100)}%`} />
      <Select<ScaleMode>
        label="Scale"
        value={s.scale}
        options={[
          { value: 'each', label: 'each map on its own scale' },
          { value: 'shared', label: 'one shared scale' },
        ]}
        onChange={(scale) => set({ scale })}
      />
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
      </button>{' '}
      <button type="button" className="secondary" disabled={!hasResults} onClick={() => void exportAll('json')}>
        Export settings (JSON)
      </button>
    </Section>
  );
}

/** The settings after the results: one idea per group. */
export function SettingsGroups() {
  return (
    <div className="settings-groups" aria-label="Settings" role="region">
      <ExplanationSettings />
      <LayerGroup />
      <DisplaySettings />
      <Section title="Your own model" open={false}>
        <CustomModelDrop />
      </Section>
    </div>
  );
}

function LayerGroup() {
  return (
    <Section title="Layer">
      <LayerPicker />
    </Section>
  );
}
