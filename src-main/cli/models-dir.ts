import { resolve } from 'node:path';
import { openNodeSettings } from '../services/settings/node-settings.ts';
import type { CliContext } from './command.ts';

/** Atelier's cache folder: ATELIER_CACHE_DIR, else the one in the app's settings (converted weights of other folders). */
export function cliCacheDir(ctx: CliContext): string {
  return ctx.env.ATELIER_CACHE_DIR ?? openNodeSettings(ctx.env).get().cacheDir;
}

/** The models folder: `--dir` when given, else ATELIER_MODELS_DIR, else the one chosen in the app's settings. */
export function cliModelsDir(ctx: CliContext, dir?: string): string {
  if (dir !== undefined) return resolve(ctx.cwd, dir);
  return ctx.env.ATELIER_MODELS_DIR ?? openNodeSettings(ctx.env).get().modelsDir;
}
