/**
 * Are the maps bit-identical to another checkout's? Runs `fusion-cam explain` of this checkout and
 * of another one (default /work/main) on a few shared photos with MobileNet 0.25, every method
 * both share, both Fusion-CAM variants, and compares every .f32 file byte for byte.
 *
 *   npx tsx scripts/maps-identical.ts [--other /work/main] [--images dog,eagle,kite] [--keep DIR]
 *
 * Not a unit test: it takes minutes and needs a second checkout. Prints one JSON line per
 * variant and exits 1 when any file differs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    other: { type: 'string', default: '/work/main' },
    images: { type: 'string', default: 'dog,eagle,kite' },
    methods: { type: 'string', default: 'gradcam,gradcampp,xgradcam,layercam,scorecam,groupcam,ablationcam,unioncam,fusioncam' },
    variants: { type: 'string', default: 'reference,xplain' },
    keep: { type: 'string' },
  },
});
const root = path.resolve(import.meta.dirname, '..');
const shared = process.env.FUSION_CAM_SHARED ?? path.resolve(root, '../shared');
const model = path.join(shared, 'models/mobilenet_v1_0.25_224');
const images = a.images!.split(',').flatMap((s) => ['--image', path.join(shared, 'images/photos', `${s}.jpg`)]);
const tmp = a.keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'maps-identical-'));

function explain(checkout: string, out: string, variant: string): void {
  if (fs.existsSync(out) && fs.readdirSync(out).some((f) => f.endsWith('.json'))) return; // kept from an earlier run
  execFileSync('node', [path.join(checkout, 'bin/fusion-cam.js'), 'explain', '--model', model, ...images, '--methods', a.methods!, '--variant', variant, '--out', out], {
    cwd: checkout,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

let differ = 0;
for (const variant of a.variants!.split(',')) {
  const mine = path.join(tmp, `this-${variant}`);
  const theirs = path.join(tmp, `other-${variant}`);
  explain(a.other!, theirs, variant);
  explain(root, mine, variant);
  const files = fs.readdirSync(theirs).filter((f) => f.endsWith('.f32')).sort();
  let same = 0;
  const different: string[] = [];
  for (const f of files) {
    const p = path.join(mine, f);
    if (fs.existsSync(p) && Buffer.compare(fs.readFileSync(p), fs.readFileSync(path.join(theirs, f))) === 0) same++;
    else different.push(f);
  }
  differ += different.length;
  process.stdout.write(JSON.stringify({ variant, files: files.length, identical: same, different }) + '\n');
}
process.stdout.write(`outputs in ${tmp}\n`);
process.exit(differ > 0 ? 1 : 0);
