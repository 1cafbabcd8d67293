import { SETTINGS_SCHEMA } from '../../services/settings/settings-schema.ts';
import { arr, args, num, oneOf, partial, str } from '../validate.ts';

export const settingsParsers = {
  get: args(),
  update: args(
    partial({
      theme: oneOf(SETTINGS_SCHEMA.theme.enum),
      language: oneOf(SETTINGS_SCHEMA.language.enum),
      modelsDir: str({ nonEmpty: true, max: 4096 }),
      cacheDir: str({ nonEmpty: true, max: 4096 }),
      hubEndpoint: str({ nonEmpty: true, max: 2048 }),
      provider: oneOf(SETTINGS_SCHEMA.provider.enum),
      memoryMode: oneOf(SETTINGS_SCHEMA.memoryMode.enum),
      autosaveSeconds: num({ min: 5, max: 3600 }),
      recentProjects: arr(str({ max: 4096 }), { max: 20 }),
      downloadConnections: num({ min: 1, max: SETTINGS_SCHEMA.downloadConnections.maximum, int: true }),
    }),
  ),
};
