/**
 * Renders a panel's overlay at the photo's original resolution off the page's thread: a
 * 6000×4000 photo is 24 M pixels to decode, resample and blend, which would freeze the page
 * for a second or more.
 */
import { resizeBilinear } from '../engine/maps';
import { blendOverlay } from '../app/render';

export interface ExportRequest {
  id: number;
  blob: Blob;
  /** Decode at most this many pixels (canvas limits); larger photos are shrunk first. */
  maxPixels: number;
  map: Float32Array;
  mapSize: [number, number];
  lut: Uint8Array;
  opacity: number;
  range: [number, number];
}

export type ExportReply = { id: number; png: Blob; width: number; height: number } | { id: number; error: string };

interface Scope {
  postMessage(m: ExportReply): void;
  onmessage: ((e: MessageEvent<ExportRequest>) => void) | null;
}
const scope = self as unknown as Scope;

async function render(req: ExportRequest): Promise<ExportReply> {
  let bitmap = await createImageBitmap(req.blob, { imageOrientation: 'from-image' });
  if (bitmap.width * bitmap.height > req.maxPixels) {
    const s = Math.sqrt(req.maxPixels / (bitmap.width * bitmap.height));
    const small = await createImageBitmap(bitmap, { resizeWidth: Math.floor(bitmap.width * s), resizeHeight: Math.floor(bitmap.height * s), resizeQuality: 'high' });
    bitmap.close();
    bitmap = small;
  }
  const W = bitmap.width;
  const H = bitmap.height;
  const canvas = new OffscreenCanvas(W, H);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const img = ctx.getImageData(0, 0, W, H);
  const full = resizeBilinear(req.map, req.mapSize[0], req.mapSize[1], H, W);
  // blend in place: the photo pixels are read before each output pixel is written
  blendOverlay(img, full, img.data, req.lut, req.opacity, req.range[0], req.range[1]);
  ctx.putImageData(img, 0, 0);
  return { id: req.id, png: await canvas.convertToBlob({ type: 'image/png' }), width: W, height: H };
}

scope.onmessage = (e) => {
  render(e.data).then(
    (r) => scope.postMessage(r),
    (err: unknown) => scope.postMessage({ id: e.data.id, error: err instanceof Error ? err.message : String(err) }),
  );
};
