/**
 * JPEG decoding that gives the same RGB bytes as the authors' pipeline, PIL's
 * `Image.open(p).convert('RGB')`: PIL hands the file to libjpeg-turbo with its defaults (ISLOW
 * integer IDCT, fancy chroma upsampling, libjpeg's YCbCr→RGB tables), so we run libjpeg-turbo
 * itself, the WebAssembly build shipped by @cwasm/jpeg-turbo (pure wasm, no native binary).
 * Its own JS wrapper always asks libjpeg for RGBA, which libjpeg cannot make from CMYK/YCCK, and
 * rejects subsamplings TurboJPEG has no name for (4:1:0, mixed), so we call the TurboJPEG C API
 * ourselves: RGB for 3 components, grey for 1 (replicated, as PIL's L→RGB), raw CMYK for 4
 * followed by PIL's own CMYK→RGB step. EXIF orientation is ignored, as PIL's open+convert does.
 *
 * Corrupt data: libjpeg errors stop the decode; libjpeg warnings (e.g. extraneous bytes before a
 * marker) do not, as in PIL; a file that ends before its end-of-image marker is rejected as
 * truncated, as PIL does ("image file is truncated").
 *
 * Not bit-exact (measured): progressive files whose scans never complete some coefficients
 * (libjpeg smooths their blocks, and this 2.0-era build smooths differently from PIL's 2.1;
 * up to 37 levels on DC-only files, which no common encoder writes), and the garbage decoded from
 * corrupt entropy data that libjpeg only warns about (one flipped byte in a photo: up to 255).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';

export interface JpegHeader {
  width: number;
  height: number;
  /** Colour components in the frame: 1 (grey), 3 (YCbCr or RGB), 4 (CMYK or YCCK). */
  components: number;
  /** Bits per sample. */
  precision: number;
  /** The SOFn marker byte (0xc0 baseline, 0xc1 extended, 0xc2 progressive, …). */
  sof: number;
}

/** Thrown for input that is not a decodable JPEG; the message is one short clause. */
export class JpegDecodeError extends Error {}

const TRUNCATED = 'truncated: the file ends before its end-of-image marker';

function isSofMarker(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/**
 * Walks the marker structure the way libjpeg's marker reader does (segments by their length,
 * entropy-coded data up to the next marker that is not a stuffed 0xFF00 or RSTn) and returns the
 * first frame header, and whether an end-of-image marker was reached. An embedded EXIF thumbnail
 * sits inside an APP1 segment and is skipped with it.
 */
function walkMarkers(buf: Uint8Array): { header: JpegHeader | null; complete: boolean } {
  let header: JpegHeader | null = null;
  let pos = 2; // after SOI
  const n = buf.length;
  for (;;) {
    // next marker: skip garbage bytes, then any 0xFF fill bytes (libjpeg warns and goes on)
    while (pos < n && buf[pos] !== 0xff) pos++;
    while (pos < n && buf[pos] === 0xff) pos++;
    if (pos >= n) return { header, complete: false };
    const m = buf[pos++];
    if (m === 0x00) continue; // a stuffed 0xFF00 outside a scan: garbage
    if (m === 0xd9) return { header, complete: true };
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) continue; // RSTn, TEM: no length field
    // libjpeg stops with an error on any other marker it does not know (it is corrupt data)
    if (!((m >= 0xc0 && m <= 0xcf) || (m >= 0xda && m <= 0xdd) || (m >= 0xe0 && m <= 0xef) || m === 0xfe)) {
      throw new JpegDecodeError(`corrupt data: unknown marker 0x${m.toString(16).padStart(2, '0')} at byte ${pos - 2}`);
    }
    if (pos + 2 > n) return { header, complete: false };
    const len = (buf[pos] << 8) | buf[pos + 1];
    if (len < 2) throw new JpegDecodeError(`bad length ${len} of marker 0x${m.toString(16)}`);
    const end = pos + len;
    if (end > n) return { header, complete: false };
    if (isSofMarker(m) && !header) {
      if (len < 8) throw new JpegDecodeError('the frame header is too short');
      header = {
        sof: m,
        precision: buf[pos + 2],
        height: (buf[pos + 3] << 8) | buf[pos + 4],
        width: (buf[pos + 5] << 8) | buf[pos + 6],
        components: buf[pos + 7],
      };
    }
    pos = end;
    if (m === 0xda) {
      // entropy-coded data: ends at the first 0xFF followed by a byte other than 0x00 or RSTn
      for (;;) {
        while (pos < n && buf[pos] !== 0xff) pos++;
        if (pos + 1 >= n) return { header, complete: false };
        const next = buf[pos + 1];
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) pos += 2;
        else if (next === 0xff) pos++;
        else break;
      }
    }
  }
}

/**
 * Reads the frame header; throws JpegDecodeError if there is none, if the file is truncated
 * (no end-of-image marker) or if it is a kind of JPEG that PIL's libjpeg cannot decode either.
 */
export function readJpegHeader(buf: Uint8Array): JpegHeader {
  if (buf.length < 3 || buf[0] !== 0xff || buf[1] !== 0xd8) throw new JpegDecodeError('no JPEG start-of-image marker');
  const { header, complete } = walkMarkers(buf);
  if (!complete) throw new JpegDecodeError(TRUNCATED);
  if (!header) throw new JpegDecodeError('no frame header (SOF marker)');
  const { sof, precision, width, height, components } = header;
  if (sof === 0xc3 || sof === 0xc7 || sof === 0xcb || sof === 0xcf) throw new JpegDecodeError('lossless JPEG is not supported');
  // this libjpeg build has no arithmetic decoder; PIL's has one but fails ('broken data stream')
  // on files over its 64 KB read block, since libjpeg cannot suspend an arithmetic-coded scan
  if (sof >= 0xc9) throw new JpegDecodeError('arithmetic-coded JPEG is not supported');
  if (sof === 0xc5 || sof === 0xc6) throw new JpegDecodeError('hierarchical JPEG is not supported');
  if (precision !== 8) throw new JpegDecodeError(`${precision}-bit JPEG is not supported (8-bit only, as in PIL)`);
  if (width === 0 || height === 0) throw new JpegDecodeError(`empty image (${width}×${height})`);
  if (components !== 1 && components !== 3 && components !== 4) throw new JpegDecodeError(`${components} colour components are not supported`);
  return header;
}

// TurboJPEG pixel formats (turbojpeg.h)
const TJPF_RGB = 0;
const TJPF_GRAY = 6;
const TJPF_CMYK = 11;

interface TurboExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  tjInitDecompress(): number;
  tjDecompress2(handle: number, src: number, size: number, dst: number, width: number, pitch: number, height: number, pixelFormat: number, flags: number): number;
  tjDestroy(handle: number): number;
}

class LibjpegError extends Error {}

let turboModule: WebAssembly.Module | null = null;

/**
 * A fresh instance per image: libjpeg reports errors with longjmp, which this build turns into a
 * call to our import, and throwing from there leaves the instance's heap half-used; a new
 * instance (the compiled module is shared) starts clean and its memory goes with it.
 */
function turboInstance(): TurboExports {
  if (!turboModule) {
    const file = createRequire(import.meta.url).resolve('@cwasm/jpeg-turbo/jpeg-turbo.wasm');
    turboModule = new WebAssembly.Module(fs.readFileSync(file));
  }
  const fail = (what: string) => () => {
    throw new Error(`${what} called`);
  };
  const instance = new WebAssembly.Instance(turboModule, {
    env: {
      setjmp: () => 0,
      longjmp: () => {
        throw new LibjpegError('libjpeg stopped on corrupt or unsupported data');
      },
    },
    wasi_snapshot_preview1: {
      proc_exit: fail('proc_exit'),
      environ_sizes_get: () => 0,
      environ_get: () => 0,
      fd_close: () => 0,
      fd_seek: () => 0,
      fd_write: () => 0,
    },
  });
  return instance.exports as unknown as TurboExports;
}

/**
 * Decodes a JPEG to interleaved RGB exactly as PIL 9.4 on libjpeg-turbo 2.1 does
 * (`Image.open(p).convert('RGB')`). `header` is readJpegHeader's result, if already read.
 */
export function decodeJpeg(buf: Uint8Array, header: JpegHeader = readJpegHeader(buf)): { width: number; height: number; data: Uint8Array; channels: 3 } {
  const { width, height, components } = header;
  const bytesPerPixel = components === 4 ? 4 : components === 1 ? 1 : 3;
  const pixelFormat = components === 4 ? TJPF_CMYK : components === 1 ? TJPF_GRAY : TJPF_RGB;
  const tj = turboInstance();
  const n = width * height;
  let raw: Uint8Array;
  try {
    const src = tj.malloc(buf.length) >>> 0;
    const dst = tj.malloc(n * bytesPerPixel) >>> 0;
    if (!src || !dst) throw new JpegDecodeError(`not enough memory to decode ${width}×${height}`);
    new Uint8Array(tj.memory.buffer, src, buf.length).set(buf);
    const handle = tj.tjInitDecompress();
    if (!handle) throw new JpegDecodeError('could not start libjpeg');
    // flags 0: libjpeg's defaults, as PIL uses them (ISLOW IDCT, fancy upsampling). A negative
    // status without a longjmp means warnings only (the image is complete), which PIL ignores too.
    tj.tjDecompress2(handle, src, buf.length, dst, width, width * bytesPerPixel, height, pixelFormat, 0);
    // copy out before the instance (and its memory) is dropped
    raw = new Uint8Array(tj.memory.buffer, dst, n * bytesPerPixel).slice();
  } catch (e) {
    if (e instanceof JpegDecodeError) throw e;
    if (e instanceof LibjpegError) throw new JpegDecodeError(e.message);
    throw new JpegDecodeError(`libjpeg failed: ${(e as Error).message}`);
  }
  if (components === 3) return { width, height, data: raw, channels: 3 };
  const rgb = new Uint8Array(n * 3);
  if (components === 1) {
    for (let i = 0, j = 0; i < n; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = raw[i];
  } else {
    cmykToRgbLikePil(raw, rgb, n);
  }
  return { width, height, data: rgb, channels: 3 };
}

/**
 * PIL's JPEG reader takes 4-component data as "CMYK;I" (Adobe's inverted inks, assumed whether
 * or not the file has an Adobe marker), and convert('RGB') then computes, per ink,
 * R = clip(255 − K − MULDIV255(C, 255 − K)) with MULDIV255(a, b) = ((t >> 8) + t) >> 8, t = a·b + 128
 * (Pillow's Convert.c cmyk2rgb). `raw` holds libjpeg's samples, i.e. the inverted inks.
 */
export function cmykToRgbLikePil(raw: Uint8Array, rgb: Uint8Array, pixels: number): void {
  for (let i = 0, s = 0, d = 0; i < pixels; i++, s += 4, d += 3) {
    const nk = raw[s + 3]; // 255 − K
    for (let c = 0; c < 3; c++) {
      const t = (255 - raw[s + c]) * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      rgb[d + c] = v < 0 ? 0 : v;
    }
  }
}
