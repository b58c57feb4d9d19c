import { useAppStore } from './store';

/** The class the maps target: the pinned class if valid, else the top-1 prediction. */
export function targetClass(): number | null {
  const { settings, results, model } = useAppStore.getState();
  const n = model.info?.numClasses ?? 0;
  if (settings.classIndex !== null && settings.classIndex < n) return settings.classIndex;
  return results.predictions[0]?.index ?? null;
}
