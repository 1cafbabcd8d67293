import Conf from 'conf';
import type { Settings } from '../../ipc/contract.ts';
import { defaultCacheDir, defaultModelsDir, userDataDir } from '../paths.ts';
import { SETTINGS_DEFAULTS, SETTINGS_SCHEMA } from './settings-schema.ts';
import { SettingsService } from './settings-service.ts';

/** The file name electron-store writes in the app (`name: 'settings'`), so the CLI reads the same choices. */
export const SETTINGS_FILE_NAME = 'settings';

/**
 * The app's settings in plain Node (CLI, headless tests): the same file in the user-data folder that the
 * desktop app writes through electron-store, through conf (what electron-store wraps).
 */
export function openNodeSettings(env: NodeJS.ProcessEnv = process.env, dir = userDataDir(env)): SettingsService {
  const defaults = SETTINGS_DEFAULTS(defaultModelsDir(env), defaultCacheDir(env));
  const conf = new Conf<Settings>({
    cwd: dir,
    configName: SETTINGS_FILE_NAME,
    defaults,
    schema: SETTINGS_SCHEMA as never,
    projectName: 'atelier',
    clearInvalidConfig: false,
  });
  return new SettingsService(
    {
      get store() {
        return conf.store;
      },
      set: (patch) => conf.set(patch),
    },
    defaults,
  );
}
