import { readFileSync } from 'node:fs';
import { CliError, type CliContext } from './command.ts';
import { COMMANDS } from './commands.ts';

/** The app version from package.json (recipes and `--version` report it). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 8);
  return [
    'Atelier: OmniGen2 image generation, editing and understanding on your own machine.',
    '',
    'Usage: atelier <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    "  -h, --help     show this help (or a command's: atelier <command> --help)",
    '  -v, --version  print the version',
    '',
  ].join('\n');
}

/** Runs one CLI invocation and returns the exit code; errors the user can act on are printed as one line. */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    ctx.stdout(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '-v' || name === '--version') {
    ctx.stdout(`${cliVersion()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    ctx.stderr(`atelier: unknown command "${name}". Run "atelier --help" for the list.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.stdout(`${command.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await command.run(rest, ctx);
  } catch (e) {
    if (e instanceof CliError) {
      ctx.stderr(`atelier ${name}: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error & { code?: string };
    if (err?.code === 'cancelled') {
      ctx.stderr(`atelier ${name}: cancelled\n`);
      return 130;
    }
    ctx.stderr(`atelier ${name}: ${err?.message ?? String(e)}\n`);
    if (ctx.env.ATELIER_DEBUG) ctx.stderr(`${err?.stack ?? ''}\n`);
    return 1;
  }
}
