/** The app store: a few slices (input, model, settings, results, ui, live, compare, …) in one zustand store. */
import { create } from 'zustand';
import { createInputSlice, type InputSlice } from './input';
import { createModelSlice, type ModelSlice } from './model';
import { createResultsSlice, type ResultsSlice } from './results';
import { createSettingsSlice, type SettingsSlice } from './settings';
import { createUiSlice, type UiSlice } from './ui';
import { createModelSourceSlice, type ModelSourceSlice } from './modelSource';
import { createEvaluationSlice, type EvaluationSlice } from './evaluation';
import { createLiveSlice, type LiveSlice } from './live';
import { createCompareSlice, type CompareSlice } from './compare';
import { settingsFromQuery } from '../urlState';
import { pinFromParam } from '../compareUrl';

export type AppState = InputSlice & ModelSlice & SettingsSlice & ResultsSlice & UiSlice & ModelSourceSlice & EvaluationSlice & LiveSlice & CompareSlice;

export const useAppStore = create<AppState>()((...a) => ({
  ...createInputSlice(...a),
  ...createModelSlice(...a),
  ...createSettingsSlice(settingsFromQuery(typeof location === 'undefined' ? '' : location.search))(...a),
  ...createResultsSlice(...a),
  ...createUiSlice(...a),
  ...createModelSourceSlice(...a),
  ...createEvaluationSlice(...a),
  ...createLiveSlice(...a),
  ...createCompareSlice(pinFromParam(typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('pin')))(...a),
}));
