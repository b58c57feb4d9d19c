/**
 * `--shard K/N` for `fusion-cam evaluate`: the K-th (from 1) of N disjoint parts of the image
 * list, dealt round-robin (image i of the list, from 0, goes to part i mod N + 1). The list is the
 * one a single run would evaluate — the folder's files sorted by name, then `--seed`'s shuffle and
 * `--limit` — so N parts together are exactly that run's images, and `fusion-cam merge` can put
 * the rows back in its order. Round-robin rather than contiguous: neighbouring files (often one
 * class, one size) spread over the pods, so the parts take about the same time.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { UsageError } from './common';

export interface ShardSpec {
  /** 1-based part number. */
  index: number;
  count: number;
}

/** What a part's JSON records (`settings.shard`), enough for merge to check and reorder. */
export interface ShardRecord extends ShardSpec {
  order: 'round-robin';
  /** Images in the whole list (all parts), and a hash of that list's names in order. */
  listSize: number;
  listHash: string;
  /** This part's images, in the order it ran them. */
  images: string[];
}

export function parseShard(value: string | undefined): ShardSpec | null {
  if (value === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard must be K/N with 1 ≤ K ≤ N (e.g. --shard 2/8), got "${value}"`);
  }
  return { index, count };
}

/** The names of a list, hashed: parts cut from different lists (another folder, --limit, --seed) refuse to merge. */
export function listHash(files: string[]): string {
  return createHash('sha256').update(files.map((f) => path.basename(f)).join('\n')).digest('hex').slice(0, 16);
}

/** Position (from 0) in the whole list of the j-th image (from 0) of part `index`. */
export function shardPosition(spec: ShardSpec, j: number): number {
  return j * spec.count + (spec.index - 1);
}

/** Part K of N of `files` (which must already be the whole, final list), with what its JSON records. */
export function takeShard(files: string[], spec: ShardSpec): { files: string[]; record: ShardRecord } {
  const mine = files.filter((_, i) => i % spec.count === spec.index - 1);
  return {
    files: mine,
    record: { ...spec, order: 'round-robin', listSize: files.length, listHash: listHash(files), images: mine.map((f) => path.basename(f)) },
  };
}

export const SHARD_USAGE = `--shard K/N evaluates only part K (from 1) of N of the image list (after --seed and --limit),
  dealt round-robin: image i (from 0) goes to part i mod N + 1; 'fusion-cam merge' joins the parts.`;
