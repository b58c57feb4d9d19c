/**
 * deploy/: the Kubernetes manifests against the API schema (kubernetes-models' validate), and the
 * facts the sharded run depends on: an Indexed Job whose pods take shard K = index + 1 of N =
 * completions from JOB_COMPLETION_INDEX, as non-root, with data on the shared volume; the merge
 * Job reads the parts that naming gives. The Dockerfile: Node 20, npm ci --omit=dev, non-root,
 * the CLI as entrypoint.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (name: string) => parseAllDocuments(fs.readFileSync(path.join(ROOT, 'deploy', name), 'utf8')).map((d) => d.toJS());

type Container = { command?: string[]; args?: string[]; env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[]; volumeMounts?: { name: string; mountPath: string }[]; securityContext?: Record<string, unknown>; image?: string };
type PodSpec = { securityContext?: Record<string, unknown>; containers: Container[]; volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[]; restartPolicy?: string };
type JobObj = { kind: string; spec: { completionMode?: string; completions?: number; parallelism?: number; template: { spec: PodSpec } } };

describe('deploy/ manifests', () => {
  const [evaluate] = load('evaluate-job.yaml') as JobObj[];
  const [merge] = load('merge-job.yaml') as JobObj[];
  const [pvc] = load('pvc.yaml');

  it('validate against the Kubernetes API schema', () => {
    expect(() => new Job(evaluate as never).validate()).not.toThrow();
    expect(() => new Job(merge as never).validate()).not.toThrow();
    expect(() => new PersistentVolumeClaim(pvc).validate()).not.toThrow();
    // the validator is not a no-op: a wrong type is refused
    expect(() => new Job({ ...evaluate, spec: { ...evaluate.spec, completions: 'eight' } } as never).validate()).toThrow();
  });

  it('evaluate is an Indexed Job: shard index + 1 of completions, from JOB_COMPLETION_INDEX', () => {
    const spec = evaluate.spec;
    expect(spec.completionMode).toBe('Indexed');
    expect(spec.completions).toBeGreaterThanOrEqual(1);
    expect(spec.parallelism).toBeLessThanOrEqual(spec.completions!);
    const c = spec.template.spec.containers[0];
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
    expect(env.JOB_COMPLETION_INDEX.valueFrom?.fieldRef?.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
    expect(Number(env.SHARD_COUNT.value)).toBe(spec.completions);
    const script = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
    expect(script).toContain('K=$((JOB_COMPLETION_INDEX + 1))');
    expect(script).toMatch(/--shard "\$K\/\$SHARD_COUNT"/);
    expect(script).toContain('--out "/data/results/part-$K-of-$SHARD_COUNT.csv"');
    expect(script).toContain('--resume'); // a retried pod continues its part
  });

  it('the shell line gives shards 1…N for indexes 0…N−1 and the merge reads exactly those parts', async () => {
    const { execFileSync } = await import('node:child_process');
    const c = evaluate.spec.template.spec.containers[0];
    const line = c.args![0].replace(/exec node \/app\/bin\/fusion-cam\.js/, 'echo');
    const n = evaluate.spec.completions!;
    const outs = Array.from({ length: n }, (_, i) => execFileSync('/bin/sh', ['-c', line], { env: { JOB_COMPLETION_INDEX: String(i), SHARD_COUNT: String(n), MODEL: 'm', METHODS: 'gradcam', WORKERS: '2', PATH: process.env.PATH } }).toString());
    outs.forEach((o, i) => expect(o).toContain(`--shard ${i + 1}/${n} --resume --out /data/results/part-${i + 1}-of-${n}.csv`));
    const m = merge.spec.template.spec.containers[0];
    expect(m.args![0]).toContain('merge /data/results/part-*-of-"$SHARD_COUNT".csv --out /data/results/results.csv');
    expect(Number(m.env!.find((e) => e.name === 'SHARD_COUNT')!.value)).toBe(n);
  });

  it('pods run as non-root and mount the shared volume at /data', () => {
    for (const job of [evaluate, merge]) {
      const pod = job.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).not.toBe(0);
      expect(pod.containers[0].securityContext?.allowPrivilegeEscalation).toBe(false);
      expect(pod.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe((pvc as { metadata: { name: string } }).metadata.name);
      expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
      expect(pod.containers[0].image).toMatch(/^fusion-cam:/);
    }
    expect((pvc as { spec: { accessModes: string[] } }).spec.accessModes).toContain('ReadWriteMany');
  });
});

describe('Dockerfile', () => {
  const text = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => !l.trim().startsWith('#'));
  it('Node 20, production dependencies only, a non-root user, the CLI as entrypoint', () => {
    const froms = lines.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f).toMatch(/^FROM node:20[.-]/);
    expect(text).toMatch(/npm ci --omit=dev/);
    const users = lines.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toMatch(/^USER (node|1000)\b/);
    expect(lines.find((l) => l.startsWith('ENTRYPOINT'))).toBe('ENTRYPOINT ["node", "/app/bin/fusion-cam.js"]');
    // the bin it runs is the package's own
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).bin['fusion-cam']).toBe('bin/fusion-cam.js');
  });
  it('.dockerignore keeps node_modules and build outputs out of the image context', () => {
    const ignore = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', '.git', 'dist']) expect(ignore).toContain(p);
  });
});
