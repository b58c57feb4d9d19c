#!/usr/bin/env node
/**
 * npm run build:lib: the published library and CLI as ESM in lib/ (tsc -p tsconfig.lib.json),
 * then every relative import given its file extension ('./session' → './session.js',
 * './methods' → './methods/index.js'): the sources use bundler-style specifiers, which Vite
 * and Vitest resolve but Node's ESM loader does not. Plain JS, so building needs no tsx.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'lib');
fs.rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.lib.json')], { stdio: 'inherit' });

const SPEC = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\2/g;
function withExtension(file, spec) {
  const base = path.resolve(path.dirname(file), spec);
  if (/\.(js|json)$/.test(spec) && fs.existsSync(base)) return spec;
  if (fs.existsSync(base + '.js')) return spec + '.js';
  if (fs.existsSync(path.join(base, 'index.js'))) return spec.replace(/\/?$/, '/index.js');
  throw new Error(`${path.relative(root, file)}: cannot resolve "${spec}"`);
}
let files = 0;
for (const rel of fs.readdirSync(out, { recursive: true })) {
  const file = path.join(out, rel);
  if (!/\.(js|d\.ts)$/.test(file)) continue;
  const text = fs.readFileSync(file, 'utf8');
  const next = text.replace(SPEC, (_, lead, q, spec) => `${lead}${q}${withExtension(file.replace(/\.d\.ts$/, '.js'), spec)}${q}`);
  if (next !== text) fs.writeFileSync(file, next);
  files++;
}
fs.writeFileSync(path.join(out, '.build-stamp'), new Date().toISOString() + '\n');
process.stdout.write(`lib/: ${files} files\n`);
