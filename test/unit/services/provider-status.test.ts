import { describe, expect, test } from 'vitest';
import type { Engine } from '../../../src-main/engine/host/engine-client.ts';
import type { EngineTask } from '../../../src-main/engine/host/protocol.ts';
import { ProviderError, type ProviderSelection } from '../../../src-main/engine/onnx/providers.ts';
import type { Settings } from '../../../src-main/ipc/contract.ts';
import { ProviderStatusService } from '../../../src-main/services/runtime/provider-status.ts';
import { SETTINGS_DEFAULTS } from '../../../src-main/services/settings/settings-schema.ts';

const settings: Settings = SETTINGS_DEFAULTS('/m', '/c');

function fakeEngine(answer: (task: EngineTask) => unknown) {
  const tasks: EngineTask[] = [];
  const engine: Engine = {
    run: async (_id, task) => {
      tasks.push(task);
      return answer(task);
    },
    dispose: async () => undefined,
  };
  return { engine, tasks };
}

const webgpu: ProviderSelection = {
  provider: 'webgpu',
  preference: 'auto',
  reason: 'CUDA provider libraries are not installed',
  tried: [
    {
      provider: 'cuda',
      ok: false,
      error: 'CUDA provider libraries are not installed',
      detail: 'Failed to load shared library',
      cached: true,
      cpuOps: [],
    },
    { provider: 'webgpu', ok: true, error: null, detail: null, cached: false, cpuOps: [] },
  ],
};

describe('the app asks the engine host where jobs run', () => {
  test('once; again on refresh or when the preference changes', async () => {
    const current = { ...settings };
    const { engine, tasks } = fakeEngine(() => webgpu);
    const service = new ProviderStatusService({
      engine,
      settings: () => current,
      cacheFile: '/u/provider-cache.json',
      appVersion: '1.2.3',
    });
    const status = await service.status(false);
    expect(status).toEqual({
      provider: 'webgpu',
      preference: 'auto',
      reason: 'CUDA provider libraries are not installed',
      summary: 'Running on WebGPU (CUDA provider libraries are not installed)',
      tried: webgpu.tried,
    });
    await service.status(false);
    expect(tasks).toEqual([
      { kind: 'providers', request: { preference: 'auto', cacheFile: '/u/provider-cache.json', appVersion: '1.2.3' } },
    ]);
    await service.status(true);
    expect(tasks.at(-1)).toEqual({
      kind: 'providers',
      request: { preference: 'auto', cacheFile: '/u/provider-cache.json', appVersion: '1.2.3', refresh: true },
    });
    current.provider = 'cpu';
    await service.status(false);
    expect(tasks).toHaveLength(3);
    expect(service.request()).toEqual({ preference: 'cpu', cacheFile: '/u/provider-cache.json', appVersion: '1.2.3' });
  });

  test('a requested provider that cannot run is an error each time it is asked, not a remembered answer', async () => {
    let fails = true;
    const { engine, tasks } = fakeEngine(() => {
      if (fails)
        throw new ProviderError('CUDA was requested but cannot be used: CUDA provider libraries are not installed.', {
          provider: 'cuda',
        });
      return { ...webgpu, provider: 'cuda', preference: 'cuda', reason: 'requested', tried: [] };
    });
    const service = new ProviderStatusService({
      engine,
      settings: () => ({ ...settings, provider: 'cuda' }),
      cacheFile: null,
      appVersion: '1',
    });
    await expect(service.status(false)).rejects.toMatchObject({ code: 'unsupported' });
    fails = false;
    expect((await service.status(false)).summary).toBe('Running on CUDA (requested)');
    expect(tasks).toHaveLength(2);
  });
});
