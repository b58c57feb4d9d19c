/** The live camera: its state, the latest live map and the rate achieved. */
import type { StateCreator } from 'zustand';
import type { GradientMethodId } from '../../engine/methods/registry';
import type { AppState } from './index';

/** off: no camera; starting: waiting for getUserMedia; live: maps follow the camera; frozen: a frame is the image. */
export type LiveStatus = 'off' | 'starting' | 'live' | 'frozen';

export interface LiveMapView {
  seq: number;
  map: Float32Array;
  mapSize: [number, number];
  classIndex: number;
  method: GradientMethodId;
  layer: string;
  warnings: string[];
}

export interface LiveState {
  status: LiveStatus;
  /** Why the camera could not start (permission denied, no camera, camera in use…). */
  error: string | null;
  /** The tab was hidden: the camera is stopped until it shows again. */
  paused: boolean;
  cameras: { deviceId: string; label: string }[];
  deviceId: string | null;
  latest: LiveMapView | null;
  /** Maps per second over the last two seconds. */
  rate: number | null;
  numTensors: number | null;
}

export const EMPTY_LIVE: LiveState = { status: 'off', error: null, paused: false, cameras: [], deviceId: null, latest: null, rate: null, numTensors: null };

export interface LiveSlice {
  live: LiveState;
  setLive(patch: Partial<LiveState>): void;
}

export const createLiveSlice: StateCreator<AppState, [], [], LiveSlice> = (set) => ({
  live: EMPTY_LIVE,
  setLive: (patch) => set((s) => ({ live: { ...s.live, ...patch } })),
});
