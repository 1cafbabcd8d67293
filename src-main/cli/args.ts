import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with strict checking, whose errors become UsageError naming the command. */
export function parseCommandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals,
    });
  } catch (e) {
    throw new UsageError(
      `atelier ${command}: ${(e as Error).message.replace(/^.*?: /, '')}\nRun "atelier ${command} --help" for usage.`,
    );
  }
}

export function intOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  range: { min: number; max: number },
): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < range.min || v > range.max)
    throw new UsageError(`--${name} must be a whole number from ${range.min} to ${range.max}, got "${raw}"`);
  return v;
}

export function numberOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  range: { min: number; max: number },
): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < range.min || v > range.max)
    throw new UsageError(`--${name} must be a number from ${range.min} to ${range.max}, got "${raw}"`);
  return v;
}

export function choiceOption<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}
