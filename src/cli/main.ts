/** fusion-cam: command-line entry. Each subcommand lives in its own module. */
import { EXPLAIN_USAGE } from './explain';

const USAGE = `fusion-cam — Grad-CAM, Score-CAM and Fusion-CAM for TF.js models

commands:
  explain    compute maps for images and write JSON, .f32 maps and PNG overlays
  evaluate   run the faithfulness protocol over a folder of images
  metrics    score a map (.f32) made anywhere with the same yardstick

${EXPLAIN_USAGE}

Run 'fusion-cam <command> --help' for each command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'explain':
      return (await import('./explain')).runExplain(rest);
    case 'evaluate':
    case 'metrics': {
      const file = command === 'evaluate' ? './evaluate' : './metrics';
      let mod: Record<string, (argv: string[]) => Promise<number>>;
      try {
        mod = await import(/* @vite-ignore */ file);
      } catch {
        process.stderr.write(`fusion-cam: the ${command} command is not available in this build\n`);
        return 1;
      }
      return (command === 'evaluate' ? mod.runEvaluate : mod.runMetrics)(rest);
    }
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
