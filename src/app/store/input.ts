/** The image being explained. `gen` grows with every new image; replies of older ones are dropped. */
import type { StateCreator } from 'zustand';
import type { AppState } from './index';

export interface InputState {
  gen: number;
  name: string | null;
  /** The original file, kept for export at full resolution. */
  blob: Blob | null;
  /** Size of the (orientation-corrected) original. */
  width: number;
  height: number;
  /** Pixels of the display-size copy of the photo. */
  photo: ImageData | null;
  decoding: boolean;
  error: string | null;
  /** What the user should know about this photo (tiny, animated…), said under its thumbnail. */
  notes: string[];
}

export interface InputSlice {
  input: InputState;
  setInput(patch: Partial<InputState>): void;
}

export const EMPTY_INPUT: InputState = { gen: 0, name: null, blob: null, width: 0, height: 0, photo: null, decoding: false, error: null, notes: [] };

export const createInputSlice: StateCreator<AppState, [], [], InputSlice> = (set) => ({
  input: EMPTY_INPUT,
  setInput: (patch) => set((s) => ({ input: { ...s.input, ...patch } })),
});
