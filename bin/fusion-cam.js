#!/usr/bin/env node
// Runs the compiled CLI (lib/, built by `npm run build:lib`; npm pack builds it before packing).
let main;
try {
  ({ main } = await import('../lib/cli/main.js'));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('lib/cli/main.js')) throw e;
  process.stderr.write('fusion-cam: the CLI is not built in this checkout: run `npm run build:lib` first\n');
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2));
