import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_NAME = 'Atelier';

/**
 * Electron's `app.getPath('userData')` for an app named Atelier, computed without Electron so that the CLI and
 * the desktop app share settings and the models folder.
 */
export function userDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env.ATELIER_USER_DATA) return env.ATELIER_USER_DATA;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_NAME);
}

/** Atelier's cache folder (converted weights of models it does not manage); the settings can move it. */
export function defaultCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  return env.ATELIER_CACHE_DIR ?? join(userDataDir(env, platform), 'cache');
}

export function defaultModelsDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  return env.ATELIER_MODELS_DIR ?? join(userDataDir(env, platform), 'models');
}
