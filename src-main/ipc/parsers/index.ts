import type { ArgParsers } from '../register-handlers.ts';
import { appParsers } from './app.ts';
import { dialogsParsers } from './dialogs.ts';
import { jobsParsers } from './jobs.ts';
import { modelsParsers } from './models.ts';
import { projectsParsers } from './projects.ts';
import { settingsParsers } from './settings.ts';

/** Payload checks for every contract method, one module per namespace. */
export const PARSERS: ArgParsers = {
  models: modelsParsers,
  app: appParsers,
  settings: settingsParsers,
  jobs: jobsParsers,
  projects: projectsParsers,
  dialogs: dialogsParsers,
};
