/** Runs a child process for a test and resolves with its exit code and output (never rejects). */
import { execFile, type ExecFileOptions } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ProcessRun {
  /** 0 on success, the exit code on failure, −1 when the process could not run or was killed. */
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function runProcess(cmd: string, args: string[], options: ExecFileOptions = {}): Promise<ProcessRun> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 1 << 26, ...options, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The checkout's compiled CLI (bin/fusion-cam.js), run from the repository root without debug output. */
export function runCli(args: string[], options: ExecFileOptions = {}): Promise<ProcessRun> {
  return runProcess(process.execPath, [path.join(ROOT, 'bin/fusion-cam.js'), ...args], { cwd: ROOT, ...options, env: { ...process.env, FUSION_CAM_DEBUG: '', ...options.env } });
}
