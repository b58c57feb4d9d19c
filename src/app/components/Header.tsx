/** Title bar: model choice with its loading progress, and the compute backend. */
import { useId } from 'react';
import { useAppStore } from '../store';
import { MODEL_REGISTRY } from '../../engine/model/registry';
import { loadModel, modelBase } from '../engineClient';
import type { BackendChoice } from '../../worker/protocol';

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function ModelStatus() {
  const m = useAppStore((s) => s.model);
  if (m.status === 'loading') {
    return (
      <div className="model-status" role="status">
        <span>Loading model…</span>
        <progress aria-label="Download progress" max={Math.max(1, m.total)} value={m.loaded} />
        <span className="muted small">{m.total > 0 ? `${mb(m.loaded)} / ${mb(m.total)}` : ''}</span>
      </div>
    );
  }
  if (m.status === 'error') {
    return (
      <div className="model-status error" role="alert">
        {m.error}
      </div>
    );
  }
  if (m.status === 'ready' && m.info) {
    return (
      <div className="model-status" role="status">
        <span className="dot ok" aria-hidden="true" /> Model ready
      </div>
    );
  }
  return null;
}

/** Software WebGL (SwiftShader, llvmpipe…) is tens of times slower than wasm here: say so where the backend is picked. */
export function isSoftwareRenderer(renderer: string | null): boolean {
  return !!renderer && /swiftshader|llvmpipe|software|softpipe|basic render/i.test(renderer);
}

function SoftwareWebglNote() {
  const backend = useAppStore((s) => s.model.backend);
  const renderer = useAppStore((s) => s.model.renderer);
  const setSettings = useAppStore((s) => s.setSettings);
  if (backend !== 'webgl' || !isSoftwareRenderer(renderer)) return null;
  return (
    <div className="software-note" role="note">
      <span>
        WebGL is running in software here ({renderer}), with no graphics card: Score-CAM can take 20× longer. WebAssembly is faster on this machine.
      </span>
      <button type="button" className="secondary small-btn" onClick={() => setSettings({ backend: 'wasm' })}>
        Use WebAssembly
      </button>
    </div>
  );
}

export function Header() {
  const modelId = useAppStore((s) => s.settings.modelId);
  const backendChoice = useAppStore((s) => s.settings.backend);
  const setSettings = useAppStore((s) => s.setSettings);
  const backend = useAppStore((s) => s.model.backend);
  const renderer = useAppStore((s) => s.model.renderer);
  const note = useAppStore((s) => s.model.backendNote);
  const threads = useAppStore((s) => s.model.wasmThreads);
  const modelSel = useId();
  const backendSel = useId();
  const local = modelBase() !== undefined;
  // a model of the user's (dropped files or a URL) is shown as its own entry while in use
  const info = useAppStore((s) => s.model.info);
  const custom = info?.modelId.startsWith('custom:') ? info : null;
  return (
    <header className="topbar">
      <h1>
        Fusion-CAM <span className="accent">Studio</span>
        <span className="tagline">what a neural network looked at</span>
      </h1>
      <div className="topbar-controls">
        <div className="inline-field">
          <label htmlFor={modelSel}>Model</label>
          <select
            id={modelSel}
            value={custom ? custom.modelId : modelId}
            onChange={(e) => {
              const id = e.currentTarget.value;
              // back from the user's model to the registry model the settings still name
              if (id === modelId) loadModel(id);
              else setSettings({ modelId: id, layer: null, classIndex: null });
            }}
          >
            {custom && <option value={custom.modelId}>{custom.name} (your model)</option>}
            {MODEL_REGISTRY.map((m) => {
              const unavailable = m.localOnly && !local;
              return (
                <option key={m.id} value={m.id} disabled={unavailable} title={unavailable ? `${m.name} is not hosted publicly; it needs a local model folder (npm run models:fetch -- --base …, then ?models=<folder>)` : undefined}>
                  {m.name} · {m.sizeMB} MB{unavailable ? ' — needs a local model folder' : ''}
                </option>
              );
            })}
          </select>
        </div>
        <div className="inline-field">
          <label htmlFor={backendSel}>Backend</label>
          <select id={backendSel} value={backendChoice} onChange={(e) => setSettings({ backend: e.currentTarget.value as BackendChoice })}>
            <option value="auto">auto</option>
            <option value="webgpu">WebGPU</option>
            <option value="webgl">WebGL</option>
            <option value="wasm">WebAssembly</option>
            <option value="cpu">CPU (slow)</option>
          </select>
        </div>
        <span className="backend-badge" data-testid="backend-in-use" title={[renderer ? `${backend === 'webgpu' ? 'WebGPU adapter' : 'WebGL renderer'}: ${renderer}` : 'WebGL unavailable', note ?? ''].filter(Boolean).join('\n')}>
          {backend ? `running on ${backend === 'webgl' && isSoftwareRenderer(renderer) ? 'software ' : ''}${backend}${backend === 'wasm' && threads ? ` · ${threads} thread${threads > 1 ? 's' : ''}` : ''}` : 'starting…'}
        </span>
        <ModelStatus />
      </div>
      <SoftwareWebglNote />
    </header>
  );
}
