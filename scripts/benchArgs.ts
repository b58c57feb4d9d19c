/** What the Node benchmark scripts share: the repository root, the shared data folder and `--name value` flags. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const shared = process.env.FUSION_CAM_SHARED ?? path.resolve(root, '../shared');
export const args = process.argv.slice(2);

/** The value after `--name`, or `def`. */
export function flag(name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
}
