import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Conf from 'conf';
import { afterEach, describe, expect, test } from 'vitest';
import type { Settings } from '../../../src-main/ipc/contract.ts';
import { SETTINGS_DEFAULTS, SETTINGS_SCHEMA } from '../../../src-main/services/settings/settings-schema.ts';
import { SettingsService } from '../../../src-main/services/settings/settings-service.ts';
import { defaultModelsDir, userDataDir } from '../../../src-main/services/paths.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function service() {
  const cwd = mkdtempSync(join(tmpdir(), 'atelier-settings-'));
  dirs.push(cwd);
  const defaults = SETTINGS_DEFAULTS(join(cwd, 'models'), join(cwd, 'cache'));
  const conf = new Conf<Settings>({
    cwd,
    configName: 'settings',
    defaults,
    schema: SETTINGS_SCHEMA as never,
    projectName: 'atelier-test',
  });
  return {
    cwd,
    conf,
    settings: new SettingsService(
      {
        get store() {
          return conf.store;
        },
        set: (p) => conf.set(p),
      },
      defaults,
    ),
  };
}

describe('SettingsService over conf (what electron-store wraps)', () => {
  test('starts from the defaults', () => {
    const { settings, cwd } = service();
    expect(settings.get()).toMatchObject({
      theme: 'system',
      language: 'system',
      provider: 'auto',
      modelsDir: join(cwd, 'models'),
      autosaveSeconds: 30,
    });
  });

  test('persists an update to disk and notifies listeners', () => {
    const { settings, cwd } = service();
    const seen: string[] = [];
    settings.onChange((s) => seen.push(s.theme));
    settings.update({ theme: 'dark', language: 'zh-CN', autosaveSeconds: 60 });
    expect(JSON.parse(readFileSync(join(cwd, 'settings.json'), 'utf8'))).toMatchObject({
      theme: 'dark',
      language: 'zh-CN',
      autosaveSeconds: 60,
    });
    expect(seen).toEqual(['dark']);
  });

  test.each([
    [{ theme: 'purple' }, /theme.*one of/],
    [{ language: 'fr' }, /language.*one of/],
    [{ autosaveSeconds: 1 }, /between 5 and 3600/],
    [{ hubEndpoint: 'ftp://x' }, /must match/],
    [{ nonsense: 1 }, /unknown setting/],
  ])('rejects %j and changes nothing', (patch, message) => {
    const { settings } = service();
    const before = settings.get();
    expect(() => settings.update({ theme: 'light', ...patch } as never)).toThrow(message);
    expect(settings.get()).toEqual(before);
  });
});

describe('paths', () => {
  test('mirror Electron userData per platform, overridable', () => {
    expect(userDataDir({ XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/Atelier');
    expect(userDataDir({ APPDATA: 'C:/Users/a/AppData/Roaming' }, 'win32')).toMatch(/Roaming[\\/]Atelier$/);
    expect(userDataDir({ ATELIER_USER_DATA: '/custom' }, 'linux')).toBe('/custom');
    expect(defaultModelsDir({ XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/Atelier/models');
  });
});
