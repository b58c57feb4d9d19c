#!/usr/bin/python3
"""Writes the tiny JPEG fixtures of src/node/jpegDecode.test.ts and PIL's decode of each.

The reference is the authors' pipeline, `Image.open(p).convert('RGB')`: PIL on libjpeg-turbo.
Each fixture is made here from a synthetic pattern (nothing is copied from anywhere), saved as a
JPEG, then decoded by PIL; the test asserts our decoder gives PIL's bytes exactly.

Run from the repo root with Debian's Python (PIL 9.4 on libjpeg-turbo 2.1.5, like the reference
machine): `/usr/bin/python3 scripts/make-jpeg-fixtures.py`. The 4:4:0 / 4:1:1 and restart-marker
cases need cjpeg and jpegtran (`apt-get install libjpeg-turbo-progs`): PIL cannot write them.
Output: src/node/fixtures/jpeg/<name>.jpg, <name>.rgb (PIL's RGB, row-major, 3 bytes a pixel) and
fixtures.json (sizes, PIL's mode, what each case covers, the PIL and libjpeg versions).
"""
import json
import math
import os
import shutil
import subprocess
import tempfile

from PIL import Image, features
import PIL

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'node', 'fixtures', 'jpeg')


def pattern(w, h, seed):
    """Smooth waves, hard colour edges, a checkerboard and pseudo-random noise: every
    subsampling/upsampling and IDCT path gets both flat and busy blocks."""
    im = Image.new('RGB', (w, h))
    px = im.load()
    state = seed * 2654435761 % 2**32
    for y in range(h):
        for x in range(w):
            state = (state * 1103515245 + 12345) % 2**31
            r = 127 + 120 * math.sin(x * 0.45 + seed) * math.cos(y * 0.3)
            g = x * 255 // max(1, w - 1) if (x // 4 + y // 5) % 2 else 255 - y * 255 // max(1, h - 1)
            b = (state >> 16) % 256 if (x + y) % 3 == 0 else (210 if x > w // 2 else 25)
            px[x, y] = (int(r), g, b)
    return im


def main():
    for tool in ('cjpeg', 'jpegtran'):
        if not shutil.which(tool):
            raise SystemExit(f'{tool} not found: apt-get install libjpeg-turbo-progs')
    os.makedirs(OUT, exist_ok=True)
    cases = []
    tmp = tempfile.mkdtemp()

    def add(name, what, write):
        path = os.path.join(OUT, name + '.jpg')
        write(path)
        im = Image.open(path)
        mode = im.mode
        rgb = im.convert('RGB')
        with open(os.path.join(OUT, name + '.rgb'), 'wb') as f:
            f.write(rgb.tobytes())
        cases.append({'name': name, 'width': rgb.width, 'height': rgb.height, 'pilMode': mode, 'what': what})

    def cjpeg(args, im, grey=False):
        src = os.path.join(tmp, 'src.pgm' if grey else 'src.ppm')
        (im.convert('L') if grey else im).save(src)
        return lambda p: subprocess.run(['cjpeg', *args, '-outfile', p, src], check=True)

    def pil(im, **kw):
        return lambda p: im.save(p, **kw)

    a = pattern(17, 33, 1)
    b = pattern(40, 40, 2)
    c = pattern(33, 17, 3)
    d = pattern(37, 29, 4)
    add('444_q95_17x33', '4:4:4 baseline, quality 95', pil(a, quality=95, subsampling=0))
    add('422_q50_40x40', '4:2:2 baseline, quality 50', pil(b, quality=50, subsampling=1))
    add('420_q95_17x33', '4:2:0 baseline, quality 95, odd size', pil(a, quality=95, subsampling=2))
    add('420_q50_33x17', '4:2:0 baseline, quality 50, odd size', pil(c, quality=50, subsampling=2))
    add('420_prog_37x29', '4:2:0 progressive, quality 75', pil(d, quality=75, subsampling=2, progressive=True))
    add('444_prog_40x40', '4:4:4 progressive, quality 90', pil(b, quality=90, subsampling=0, progressive=True))
    add('422_prog_33x17', '4:2:2 progressive, quality 60', pil(c, quality=60, subsampling=1, progressive=True))
    add('grey_q90_37x29', 'greyscale baseline (PIL mode L, replicated to RGB)', pil(d.convert('L'), quality=90))
    add('grey_prog_17x33', 'greyscale progressive', pil(a.convert('L'), quality=80, progressive=True))
    add('cmyk_q90_40x40', 'Adobe CMYK (4 components; PIL reads CMYK;I, then its cmyk2rgb)', pil(b.convert('CMYK'), quality=90))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° CW to display; PIL's open+convert does not apply it
    add('exif_orient6_33x17', 'EXIF Orientation 6: not applied (as PIL open+convert)', pil(c, quality=90, exif=exif.tobytes()))
    add('440_cjpeg_37x29', '4:4:0 (chroma halved vertically only; h1v2 fancy upsampling)', cjpeg(['-quality', '85', '-sample', '1x2'], d))
    add('411_cjpeg_40x40', '4:1:1 (chroma quartered horizontally)', cjpeg(['-quality', '85', '-sample', '4x1'], b))
    add('420_restart_40x40', '4:2:0 with a restart marker after every MCU', cjpeg(['-quality', '80', '-restart', '1B'], b))
    add('grey_restart_prog_33x17', 'greyscale progressive with restart markers', cjpeg(['-quality', '70', '-progressive', '-restart', '2B'], c, grey=True))
    with open(os.path.join(OUT, 'fixtures.json'), 'w') as f:
        json.dump({
            'generator': 'scripts/make-jpeg-fixtures.py',
            'reference': "PIL Image.open(p).convert('RGB')",
            'pillow': PIL.__version__,
            'libjpeg': features.version('jpg'),
            'libjpeg_turbo': features.version('libjpeg_turbo'),
            'cases': cases,
        }, f, indent=1)
        f.write('\n')
    shutil.rmtree(tmp)
    print(f'{len(cases)} fixtures in {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
