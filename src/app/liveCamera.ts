/**
 * The live camera: getUserMedia → the newest video frame → the engine worker → the live map.
 * One frame is in flight at a time: when the worker answers, the newest frame is grabbed
 * (createImageBitmap(video), transferred), so a slow backend drops frames instead of queueing
 * them and the page never waits on the engine. Frames go to the worker only; nothing leaves
 * the page. The camera stops (its tracks end) when live mode ends or the tab is hidden.
 */
import { useAppStore } from './store';
import { clearImage, loadImage } from './engineClient';
import { send, subscribe } from './engineBus';
import { isLiveReply, type LiveReply } from '../worker/liveProtocol';

const get = () => useAppStore.getState();

let stream: MediaStream | null = null;
let video: HTMLVideoElement | null = null;
let inFlight = false;
let seq = 0;
/** Bumped by every start and stop: a getUserMedia that resolves after a stop is discarded. */
let epoch = 0;
/** Reply times for the rate (last two seconds). */
let replyTimes: number[] = [];
/** The latest live result with the exact pixels it was computed from (Freeze frame uses them). */
type LiveMapReply = Extract<LiveReply, { type: 'liveMap' }>;
let latest: LiveMapReply | null = null;
/** The live result a freeze took its frame from (tests compare its map with the frozen image's). */
let frozenFrom: LiveMapReply | null = null;
/** The photo shown before the camera started: Stop camera brings it back. */
let before: { blob: Blob; name: string } | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
/** The tracks of the last stream opened (tests check they ended). */
let lastTracks: MediaStreamTrack[] = [];

/** One clear line per getUserMedia failure; the app keeps working with photos. */
export function cameraErrorMessage(e: unknown): string {
  const name = e instanceof DOMException || e instanceof Error ? e.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return 'Camera permission was denied. Allow camera access for this site in the browser (the camera icon in the address bar), then press "Use camera" again. Photos still work: drop or choose one.';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found. Connect a camera and press "Use camera" again, or drop or choose a photo.';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'The camera is in use by another application or tab (or could not be started). Close the other user of the camera, then press "Use camera" again.';
    default:
      return `The camera could not be started${e instanceof Error && e.message ? `: ${e.message}` : ''}.`;
  }
}

function stopTracks(): void {
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
  if (video) video.srcObject = null;
}

async function listCameras(): Promise<{ deviceId: string; label: string }[]> {
  const all = await navigator.mediaDevices.enumerateDevices();
  return all.filter((d) => d.kind === 'videoinput').map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }));
}

/** Opens the camera (the chosen one, if any) and starts the live loop. */
async function openStream(deviceId: string | null): Promise<void> {
  const my = ++epoch;
  const { setLive } = get();
  const prev = get().live.status;
  if (!navigator.mediaDevices?.getUserMedia) {
    setLive({ status: 'off', error: 'This browser gives the page no camera access (it needs a secure https:// page and a browser with getUserMedia). Photos still work.' });
    return;
  }
  if (prev !== 'live') setLive({ status: 'starting', error: null, paused: false });
  try {
    const known = await listCameras();
    if (known.length === 0) throw new DOMException('No video input device', 'NotFoundError');
    const s = await navigator.mediaDevices.getUserMedia({ audio: false, video: deviceId ? { deviceId: { exact: deviceId } } : { width: { ideal: 640 }, height: { ideal: 480 } } });
    if (my !== epoch) {
      s.getTracks().forEach((t) => t.stop());
      return;
    }
    stopTracks();
    stream = s;
    lastTracks = s.getTracks();
    // labels are only readable once permission is granted
    const cameras = await listCameras().catch(() => known);
    const active = deviceId ?? s.getVideoTracks()[0]?.getSettings().deviceId;
    if (get().input.blob) before = { blob: get().input.blob!, name: get().input.name ?? 'image' };
    clearImage();
    replyTimes = [];
    latest = null;
    setLive({ status: 'live', error: null, cameras, deviceId: active ?? null, latest: null, rate: null });
    attach();
  } catch (e) {
    if (my !== epoch) return;
    // nothing was replaced yet: a live camera stays live, a frozen frame stays the image
    setLive({ status: prev === 'live' || prev === 'frozen' ? prev : 'off', error: cameraErrorMessage(e) });
  }
}

function restoreBefore(): void {
  if (before && get().input.blob === null) loadImage(before.blob, before.name);
  before = null;
}

function attach(): void {
  if (!video || !stream) return;
  if (video.srcObject !== stream) {
    video.srcObject = stream;
    video.muted = true;
    video.playsInline = true;
    void video.play().catch(() => undefined);
  }
  pump();
}

/** The live view's <video> element (null when it unmounts). */
export function attachVideo(el: HTMLVideoElement | null): void {
  if (video && video !== el) video.srcObject = null;
  video = el;
  if (el) {
    el.addEventListener('loadeddata', pump);
    attach();
  }
}

/** Sends the newest frame unless one is in flight. */
function pump(): void {
  clearTimeout(retryTimer);
  const { live, model } = get();
  if (inFlight || live.status !== 'live' || live.paused || !stream || !video) return;
  if (model.status !== 'ready' || video.readyState < 2 || video.videoWidth === 0) {
    retryTimer = setTimeout(pump, 100);
    return;
  }
  inFlight = true;
  const my = epoch;
  createImageBitmap(video).then(
    (frame) => {
      if (my !== epoch || get().live.status !== 'live') {
        frame.close();
        inFlight = false;
        return;
      }
      const s = get().settings;
      send({ type: 'liveFrame', seq: ++seq, frame, classIndex: s.classIndex, method: s.gradientMethod, variant: s.variant, layer: s.layer ?? undefined }, [frame]);
    },
    () => {
      // no frame yet (the video is between sources): try again shortly
      inFlight = false;
      retryTimer = setTimeout(pump, 100);
    },
  );
}

/** After a reply: wait for the next presented video frame (no point computing the same one twice). */
function next(): void {
  const v = video;
  if (!v) return;
  let done = false;
  const go = () => {
    if (done) return;
    done = true;
    pump();
  };
  if ('requestVideoFrameCallback' in v) v.requestVideoFrameCallback(go);
  // a paused or hidden video presents no frames: never wait long
  setTimeout(go, 50);
}

function onReply(msg: LiveReply): void {
  inFlight = false;
  const { live, setLive, setResults } = get();
  if (live.status !== 'live') return;
  if (msg.type === 'liveError') {
    setLive({ error: `Live map: ${msg.message}` });
    retryTimer = setTimeout(pump, 250);
    return;
  }
  latest = msg;
  const now = performance.now();
  replyTimes.push(now);
  while (replyTimes.length > 2 && now - replyTimes[0] > 2000) replyTimes.shift();
  const rate = replyTimes.length >= 2 ? ((replyTimes.length - 1) * 1000) / (now - replyTimes[0]) : null;
  setLive({
    error: null,
    rate,
    numTensors: msg.numTensors,
    latest: { seq: msg.seq, map: msg.map, mapSize: msg.mapSize, classIndex: msg.classIndex, method: msg.method, layer: msg.layer, warnings: msg.warnings },
  });
  // the top-5 list follows the camera
  setResults({ predictions: msg.predictions, layer: msg.layer, numTensors: msg.numTensors });
  next();
}

// a model (re)loaded — or a lost WebGL context replaced, which drops the frame in flight: go on
useAppStore.subscribe((st, prev) => {
  if (st.model.status === 'ready' && prev.model.status !== 'ready' && st.live.status === 'live') {
    inFlight = false;
    pump();
  }
});

subscribe((msg) => {
  if (isLiveReply(msg)) onReply(msg);
});

/** "Use camera". */
export function startCamera(deviceId: string | null = get().live.deviceId): void {
  void openStream(deviceId);
}

/** A camera chosen in the picker. */
export function chooseCamera(deviceId: string): void {
  get().setLive({ deviceId });
  if (get().live.status === 'live' || get().live.status === 'starting') void openStream(deviceId);
}

/** "Stop camera": tracks end; the photo shown before comes back. */
export function stopCamera(): void {
  epoch++;
  stopTracks();
  inFlight = false;
  const wasFrozen = get().live.status === 'frozen';
  get().setLive({ status: 'off', paused: false, latest: null, rate: null });
  if (!wasFrozen) restoreBefore();
  before = null;
}

/**
 * "Freeze frame": the frame of the map on screen becomes the image, as a lossless PNG of its
 * exact pixels, and goes through the path a dropped file takes (all three maps, sliders,
 * export, metrics). The camera stops until "Resume live".
 */
export async function freezeFrame(): Promise<void> {
  const frame = latest;
  if (!frame || get().live.status !== 'live') return;
  epoch++;
  stopTracks();
  inFlight = false;
  frozenFrom = frame;
  get().setLive({ status: 'frozen', paused: false, rate: null });
  const canvas = document.createElement('canvas');
  canvas.width = frame.width;
  canvas.height = frame.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(frame.pixels), frame.width, frame.height), 0, 0);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) {
    get().setLive({ error: 'The frame could not be encoded as PNG.' });
    return;
  }
  const t = new Date();
  const name = `camera-${t.toISOString().slice(0, 19).replace(/[T:]/g, '-')}.png`;
  loadImage(blob, name, { keepClass: true });
}

/** "Resume live": back to the camera. */
export function resumeLive(): void {
  void openStream(get().live.deviceId);
}

// the tab hidden: stop the camera (its light goes off); shown again: start it again
if (typeof document !== 'undefined') {
  document.addEventListener('visibilitychange', () => {
    const { live, setLive } = get();
    if (document.visibilityState === 'hidden' && (live.status === 'live' || live.status === 'starting')) {
      epoch++;
      stopTracks();
      inFlight = false;
      setLive({ status: 'live', paused: true, rate: null });
    } else if (document.visibilityState === 'visible' && live.paused && live.status === 'live') {
      void reopenAfterPause();
    }
  });
}

async function reopenAfterPause(): Promise<void> {
  const my = ++epoch;
  try {
    const s = await navigator.mediaDevices.getUserMedia({ audio: false, video: get().live.deviceId ? { deviceId: { exact: get().live.deviceId! } } : { width: { ideal: 640 }, height: { ideal: 480 } } });
    if (my !== epoch || !get().live.paused) {
      s.getTracks().forEach((t) => t.stop());
      return;
    }
    stream = s;
    lastTracks = s.getTracks();
    replyTimes = [];
    get().setLive({ paused: false, error: null });
    if (video) video.srcObject = null;
    attach();
  } catch (e) {
    if (my !== epoch) return;
    get().setLive({ status: 'off', paused: false, error: cameraErrorMessage(e) });
  }
}

export interface LiveTestHooks {
  readonly status: string;
  readonly seq: number;
  /** Live tracks' readyState ('live' / 'ended'); [] without a stream. */
  trackStates(): string[];
  /** The latest live result: map, class, the frame's pixels, tensors in the worker. */
  latest(): LiveMapReply | null;
  /** The live result the last freeze took its frame from. */
  frozenFrom(): LiveMapReply | null;
  /** The gradient-method map of the current image (the photo path). */
  photoGradientMap(): Float32Array | null;
}

if (typeof window !== 'undefined' && !('__fusionCamLive' in window)) {
  const hooks: LiveTestHooks = {
    get status() {
      return get().live.status;
    },
    get seq() {
      return get().live.latest?.seq ?? 0;
    },
    trackStates() {
      return lastTracks.map((t) => t.readyState);
    },
    latest: () => latest,
    frozenFrom: () => frozenFrom,
    photoGradientMap: () => get().results.gradient?.map ?? null,
  };
  Object.defineProperty(window, '__fusionCamLive', { value: Object.freeze(hooks), configurable: false, writable: false });
}
