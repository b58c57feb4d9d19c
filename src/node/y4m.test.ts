import { describe, expect, it } from 'vitest';
import { rgbToI420, y4mVideo } from './y4m';

describe('y4m writer', () => {
  it('converts RGB to BT.601 studio-range I420 (hand-worked values)', () => {
    // 2×2: white, black, red, blue → Y per pixel, one U and V from the block mean
    const rgb = new Uint8Array([255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255]);
    const yuv = rgbToI420(rgb, 2, 2);
    expect(yuv.length).toBe(6);
    // white Y = 16 + 219 = 235, black 16, red 16 + 65.48 = 81.48 → 81, blue 16 + 24.97 = 40.97 → 41
    expect(Array.from(yuv.subarray(0, 4))).toEqual([235, 16, 81, 41]);
    // block mean (127.5, 63.75, 127.5): U = 128 − 18.898 − 18.551 + 56.000 = 146.55 → 147; V = 128 + 56.000 − 23.447 − 9.107 = 151.45 → 151
    expect(yuv[4]).toBe(147);
    expect(yuv[5]).toBe(151);
  });

  it('grey stays neutral: U = V = 128', () => {
    const rgb = new Uint8Array(4 * 4 * 3).fill(128);
    const yuv = rgbToI420(rgb, 4, 4);
    expect(Array.from(yuv.subarray(16))).toEqual(new Array(8).fill(128));
  });

  it('writes the header and one FRAME per frame, pictures in turn', () => {
    const a = new Uint8Array(2 * 2 * 3).fill(0);
    const b = new Uint8Array(2 * 2 * 3).fill(255);
    const buf = y4mVideo([a, b], 2, 2, { framesEach: 2, fps: 10 });
    const header = 'YUV4MPEG2 W2 H2 F10:1 Ip A1:1 C420\n';
    expect(buf.subarray(0, header.length).toString('ascii')).toBe(header);
    const frameBytes = 6 + 6;
    expect(buf.length).toBe(header.length + 4 * frameBytes);
    const ys = [0, 1, 2, 3].map((i) => buf[header.length + i * frameBytes + 6]);
    expect(ys).toEqual([16, 16, 235, 235]);
  });

  it('refuses odd sizes', () => {
    expect(() => rgbToI420(new Uint8Array(27), 3, 3)).toThrow(/even/);
  });
});
