/**
 * A YUV4MPEG2 ('C420', I420) video from RGB pictures, for Chromium's fake camera
 * (`--use-file-for-fake-video-capture=FILE.y4m`): the tests and the bench show the app a
 * camera whose picture they know. RGB → YCbCr is BT.601 studio range (what Chromium assumes
 * for such a file); chroma is the mean of each 2×2 block.
 */
import { resizeRgbPillow, type RgbImage } from '../engine/image';

export interface Y4mPicture {
  /** width×height×3 RGB bytes */
  rgb: Uint8Array;
}

const clampByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** One I420 frame (Y plane, then U, then V) of an RGB picture; width and height even. */
export function rgbToI420(rgb: Uint8Array, width: number, height: number): Uint8Array {
  if (width % 2 || height % 2) throw new Error(`I420 needs an even size, got ${width}×${height}`);
  if (rgb.length !== width * height * 3) throw new Error(`Expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
  const ySize = width * height;
  const cw = width / 2;
  const out = new Uint8Array(ySize + 2 * (ySize / 4));
  for (let i = 0; i < ySize; i++) {
    const r = rgb[i * 3];
    const g = rgb[i * 3 + 1];
    const b = rgb[i * 3 + 2];
    out[i] = clampByte(16 + 0.25679 * r + 0.50413 * g + 0.09791 * b);
  }
  for (let cy = 0; cy < height / 2; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const p = ((cy * 2 + dy) * width + cx * 2 + dx) * 3;
        r += rgb[p] / 4;
        g += rgb[p + 1] / 4;
        b += rgb[p + 2] / 4;
      }
      out[ySize + cy * cw + cx] = clampByte(128 - 0.14822 * r - 0.29099 * g + 0.43922 * b);
      out[ySize + ySize / 4 + cy * cw + cx] = clampByte(128 + 0.43922 * r - 0.36779 * g - 0.07143 * b);
    }
  }
  return out;
}

/** The picture resized (whole image, no crop; Pillow's bilinear) to width×height RGB. */
export function fitPicture(img: RgbImage, width: number, height: number): Uint8Array {
  return resizeRgbPillow(img, width, height);
}

/**
 * A y4m file: `pictures` (width×height RGB each) shown in turn, each for `framesEach` frames,
 * `cycles` times over, at `fps` frames per second. Chromium loops the file.
 */
export function y4mVideo(pictures: Uint8Array[], width: number, height: number, opts: { framesEach: number; cycles?: number; fps?: number }): Buffer {
  const fps = opts.fps ?? 30;
  const frames = pictures.map((p) => rgbToI420(p, width, height));
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420\n`, 'ascii');
  const frameHead = Buffer.from('FRAME\n', 'ascii');
  const parts: Buffer[] = [header];
  for (let c = 0; c < (opts.cycles ?? 1); c++) {
    for (const f of frames) for (let i = 0; i < opts.framesEach; i++) parts.push(frameHead, Buffer.from(f.buffer, f.byteOffset, f.byteLength));
  }
  return Buffer.concat(parts);
}
