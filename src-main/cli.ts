// `atelier` command line: the same services as the app, without Electron.
import { runCli } from './cli/run-cli.ts';

async function main(): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    // First Ctrl-C asks the command to stop cleanly; a second one leaves at once.
    if (++interrupts > 1) process.exit(130);
    controller.abort();
  });
  const code = await runCli(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    interactive: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  });
  process.exitCode = code;
}

await main();
