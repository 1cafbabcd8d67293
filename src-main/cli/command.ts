/** What a command may touch: output streams and the environment, injected so tests can capture them. */
export interface CliContext {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stderr is a terminal: progress bars redraw in place, otherwise they print occasional lines. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on Ctrl-C: long commands stop cleanly and leave nothing half-written. */
  signal: AbortSignal;
  /** All of standard input (commands that read it, e.g. chat --input -); absent: the process's own stdin. */
  stdin?: () => Promise<string>;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** Full help text, printed for `atelier <name> --help`. */
  usage: string;
  run(argv: string[], ctx: CliContext): Promise<number>;
}

/** A failure the user can act on: printed as one line, never as a stack trace. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Wrong arguments (exit code 2, like most Unix tools). */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}
