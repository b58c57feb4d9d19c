/** The spec's "gradient method, region method" controls: which maps Fusion-CAM fuses. */
import { useId } from 'react';
import { useAppStore } from '../store';
import { GRADIENT_METHOD_OPTIONS, REGION_METHOD_OPTIONS } from '../methodChoice';
import type { GradientMethodId } from '../../engine/methods/registry';
import type { RegionMethodId } from '../../engine/methods/registry';

export function MethodControls() {
  const gradientId = useId();
  const regionId = useId();
  const gradientMethod = useAppStore((s) => s.settings.gradientMethod);
  const regionMethod = useAppStore((s) => s.settings.regionMethod);
  const set = useAppStore((s) => s.setSettings);
  return (
    <>
      <div className="field">
        <label htmlFor={gradientId}>Gradient method</label>
        <select id={gradientId} value={gradientMethod} onChange={(e) => set({ gradientMethod: e.currentTarget.value as GradientMethodId })}>
          {GRADIENT_METHOD_OPTIONS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={regionId}>Region method</label>
        <select id={regionId} value={regionMethod} onChange={(e) => set({ regionMethod: e.currentTarget.value as RegionMethodId })}>
          {REGION_METHOD_OPTIONS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
    </>
  );
}
