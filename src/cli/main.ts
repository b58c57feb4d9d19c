/**
 * fusion-cam: command-line entry. Each subcommand lives in its own module, loaded on demand; this
 * module stays light (no engine, no tfjs), so the Score-CAM worker threads start before the
 * command's module loads (see workers.ts).
 */
import { EXPLAIN_USAGE } from './usage';
import { earlyScoreWorkers } from './workers';

const USAGE = `fusion-cam — Grad-CAM, Score-CAM and Fusion-CAM for TF.js models

commands:
  explain    compute maps for images and write JSON, .f32 maps and PNG overlays
  evaluate   run the faithfulness protocol over a folder of images
  metrics    score a map (.f32) made anywhere with the same yardstick
  merge      join the parts of 'evaluate --shard K/N' into one results.csv

${EXPLAIN_USAGE}

Run 'fusion-cam <command> --help' for each command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'explain': {
      const early = earlyScoreWorkers('explain', rest);
      return (await import('./explain')).runExplain(rest, early);
    }
    case 'evaluate':
    case 'metrics': {
      const early = command === 'evaluate' ? earlyScoreWorkers('evaluate', rest) : null;
      let run: (argv: string[], early: ReturnType<typeof earlyScoreWorkers>) => Promise<number>;
      try {
        // literal specifiers, so the library build can give them their .js extension
        run = command === 'evaluate' ? (await import('./evaluate')).runEvaluate : (await import('./metrics')).runMetrics;
      } catch (e) {
        await early?.stop();
        process.stderr.write(`fusion-cam: the ${command} command is not available in this build (${(e as Error).message})\n`);
        return 1;
      }
      return run(rest, early);
    }
    case 'merge':
      return (await import('./merge')).runMerge(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`fusion-cam: unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}
