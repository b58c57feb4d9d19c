/**
 * The library as a stranger gets it: `npm pack` (of the lib/ the global set-up built), then a fresh project that installs the tarball
 * and the tfjs peers with `npm ci --offline` (no network at test time: its lockfile is cut from
 * ours, so every package comes from the npm cache the repository's own `npm ci` filled), then
 * examples/node-explain.mjs and the `fusion-cam` bin run from that project. ≈ 25 s.
 */
import { describe, expect, it } from 'vitest';
import { runCli, runProcess } from '../src/test-utils/runProcess';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.FUSION_CAM_SHARED ?? path.resolve(ROOT, '../shared');

async function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string; stdout: string }> {
  const r = await runProcess(cmd, args, { cwd, timeout: 150_000 });
  return { code: r.code, out: r.stdout + r.stderr, stdout: r.stdout };
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [k: string]: unknown;
}

/**
 * package.json and package-lock.json of a project that depends on the tarball and on the
 * required (non-optional) peers at our locked versions, holding only the packages those need.
 */
async function strangerProject(dir: string, tgz: string): Promise<void> {
  const lock = JSON.parse(await fs.readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packed = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as LockEntry & { version: string; bin: unknown };
  const peers = Object.keys(packed.peerDependencies ?? {}).filter((p) => !packed.peerDependenciesMeta?.[p]?.optional);
  const deps: Record<string, string> = { 'fusion-cam': `file:${tgz}` };
  for (const p of peers) deps[p] = lock.packages[`node_modules/${p}`].version!;
  const integrity = `sha512-${crypto.createHash('sha512').update(await fs.readFile(path.join(dir, tgz))).digest('base64')}`;
  const self: LockEntry = { version: packed.version, resolved: `file:${tgz}`, integrity, dependencies: packed.dependencies, peerDependencies: packed.peerDependencies, peerDependenciesMeta: packed.peerDependenciesMeta, bin: packed.bin };
  const entries: Record<string, LockEntry> = { '': { name: 'stranger', version: '1.0.0', dependencies: deps }, 'node_modules/fusion-cam': self };
  // Node's resolution: the nearest node_modules/<name> from `from` upwards
  const find = (from: string, name: string): string | null => {
    for (let base = from; ; ) {
      const key = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      if (lock.packages[key]) return key;
      if (!base) return null;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };
  const queue = ['node_modules/fusion-cam', ...peers.map((p) => `node_modules/${p}`)];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const key = queue.shift()!;
    if (seen.has(key)) continue;
    seen.add(key);
    const e = key === 'node_modules/fusion-cam' ? self : lock.packages[key];
    if (!e) throw new Error(`not in package-lock.json: ${key}`);
    if (e !== self) {
      const { dev: _dev, peer: _peer, devOptional: _devOptional, ...rest } = e;
      entries[key] = rest;
    }
    const wanted = { ...e.dependencies, ...e.optionalDependencies };
    for (const [n, v] of Object.entries(e.peerDependencies ?? {})) if (!e.peerDependenciesMeta?.[n]?.optional) wanted[n] = v;
    for (const n of Object.keys(wanted)) {
      const k = find(e === self ? '' : key, n);
      if (k) queue.push(k);
      else if (!e.optionalDependencies?.[n]) throw new Error(`${key} needs ${n}, which package-lock.json lacks`);
    }
  }
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'stranger', version: '1.0.0', private: true, type: 'module', dependencies: deps }, null, 2));
  await fs.writeFile(path.join(dir, 'package-lock.json'), JSON.stringify({ name: 'stranger', version: '1.0.0', lockfileVersion: 3, requires: true, packages: entries }, null, 2));
}

describe('npm pack, installed into an empty project', () => {
  it('installs with its peers only, and the Node example and the bin work from it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fusion-cam-stranger-'));
    try {
      // --ignore-scripts: prepack's build:lib would delete lib/ under the CLI tests running beside
      // this one; vitest's global set-up (scripts/vitest-lib-setup.mjs) built it fresh already
      const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], ROOT);
      expect(pack.code, pack.out).toBe(0);
      const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
      const files = info.files.map((f) => f.path);
      // compiled JS with declarations, the bin and the examples; no sources, tests or app
      for (const f of ['lib/lib/index.js', 'lib/lib/index.d.ts', 'lib/cli/main.js', 'bin/fusion-cam.js', 'examples/node-explain.mjs', 'examples/browser.html']) expect(files).toContain(f);
      expect(files.filter((f) => /^(src|e2e|public)\/|\.test\.|\.tsx?$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);

      await strangerProject(dir, path.basename(info.filename));
      const ci = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], dir);
      expect(ci.code, ci.out).toBe(0);
      const installed = await fs.readdir(path.join(dir, 'node_modules'));
      expect(installed).toContain('fusion-cam');
      expect(await fs.readdir(path.join(dir, 'node_modules/@tensorflow'))).toEqual(expect.arrayContaining(['tfjs-core', 'tfjs-backend-wasm', 'tfjs-layers', 'tfjs-converter']));
      // a library user gets no React, no state library, no PNG package, no build tools
      for (const p of ['react', 'react-dom', 'zustand', 'pngjs', 'vite', 'tsx', 'typescript']) expect(installed, p).not.toContain(p);

      // the example, as the stranger copies it into their project
      await fs.copyFile(path.join(dir, 'node_modules/fusion-cam/examples/node-explain.mjs'), path.join(dir, 'explain.mjs'));
      const model = path.join(SHARED, 'models/mobilenet_v1_0.25_224');
      const image = path.join(SHARED, 'images/photos/dog.jpg');
      const ex = await run('node', ['explain.mjs', model, image, 'fusion.f32'], dir);
      expect(ex.code, ex.out).toBe(0);
      const r = JSON.parse(ex.stdout) as { classIndex: number; top5: { index: number; probability: number }[]; maps: Record<string, { width: number; height: number; min: number; max: number }> };
      expect(r.top5).toHaveLength(5);
      expect(r.classIndex).toBe(r.top5[0].index);
      for (let i = 1; i < 5; i++) expect(r.top5[i].probability).toBeLessThanOrEqual(r.top5[i - 1].probability);
      expect(Object.keys(r.maps).sort()).toEqual(['fusioncam', 'gradcam', 'scorecam']);
      for (const m of Object.values(r.maps)) {
        expect([m.width, m.height]).toEqual([224, 224]);
        expect(m.min).toBeGreaterThanOrEqual(0);
        expect(m.max).toBeLessThanOrEqual(1);
        expect(m.max - m.min).toBeGreaterThan(0.1);
      }

      // the installed bin is the compiled CLI (no tsx), and the packed engine is the repository's:
      // its Fusion-CAM equals the checkout's `fusion-cam explain` byte for byte
      const help = await run(path.join(dir, 'node_modules/.bin/fusion-cam'), ['--help'], dir);
      expect(help.code, help.out).toBe(0);
      expect(help.out).toMatch(/^fusion-cam/);
      const cli = await runCli(['explain', '--model', model, '--image', image, '--methods', 'fusioncam', '--out', path.join(dir, 'cli')], { timeout: 150_000 });
      expect(cli.code, cli.stderr).toBe(0);
      const [mine, theirs] = await Promise.all([fs.readFile(path.join(dir, 'fusion.f32')), fs.readFile(path.join(dir, 'cli/dog.fusioncam.f32'))]);
      expect(mine.length).toBe(224 * 224 * 4);
      expect(mine.equals(theirs)).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
