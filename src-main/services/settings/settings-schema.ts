import type { Settings } from '../../ipc/contract.ts';
import { DEFAULT_CONNECTIONS, MAX_CONNECTIONS } from '../models/file-download.ts';

export const SETTINGS_DEFAULTS = (modelsDir: string, cacheDir: string): Settings => ({
  theme: 'system',
  language: 'system',
  modelsDir,
  cacheDir,
  hubEndpoint: 'https://huggingface.co',
  provider: 'auto',
  memoryMode: 'one-at-a-time',
  autosaveSeconds: 30,
  recentProjects: [],
  downloadConnections: DEFAULT_CONNECTIONS,
});

/** JSON schema handed to electron-store / conf, which reject a settings file that does not match it. */
export const SETTINGS_SCHEMA = {
  theme: { type: 'string', enum: ['system', 'light', 'dark'] },
  language: { type: 'string', enum: ['system', 'en', 'zh-CN'] },
  modelsDir: { type: 'string', minLength: 1 },
  cacheDir: { type: 'string', minLength: 1 },
  hubEndpoint: { type: 'string', pattern: '^https?://' },
  provider: { type: 'string', enum: ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] },
  memoryMode: { type: 'string', enum: ['all-resident', 'one-at-a-time', 'low-memory'] },
  autosaveSeconds: { type: 'number', minimum: 5, maximum: 3600 },
  recentProjects: { type: 'array', items: { type: 'string' }, maxItems: 20 },
  downloadConnections: { type: 'number', minimum: 1, maximum: MAX_CONNECTIONS },
} as const;
