import { describe, expect, test } from 'vitest';
import type { ProviderStatus } from '../../../src-main/ipc/contract.ts';
import { ProbeRunner } from '../../../src-renderer/src/lib/jobs/probe-runner.svelte.ts';
import { fakeApi } from './fakes.ts';

const CPU: ProviderStatus = {
  provider: 'cpu',
  preference: 'auto',
  reason: 'no GPU provider is available',
  summary: 'Running on CPU (no GPU provider is available)',
  tried: [
    { provider: 'webgpu', ok: false, error: 'no adapter', detail: null, cached: false, cpuOps: [] },
    { provider: 'cpu', ok: true, error: null, detail: null, cached: false, cpuOps: [] },
  ],
};

describe('ProbeRunner', () => {
  test('the engine check follows its job and also says where inference runs and why', async () => {
    const refreshes: boolean[] = [];
    const fake = fakeApi({
      jobs: { probe: async () => ({ ok: true, value: 'probe-1' }) },
      app: {
        providers: async ({ refresh }) => {
          refreshes.push(refresh);
          return { ok: true, value: CPU };
        },
      },
    });
    const probe = new ProbeRunner(fake.api);
    probe.connect();
    await probe.start();
    fake.emit('job.progress', { jobId: 'probe-1', step: 10, total: 20, etaMs: null, stage: 'running' });
    expect(probe.percent).toBe(50);
    fake.emit('job.finished', {
      jobId: 'probe-1',
      images: [],
      probe: { provider: 'cpu', runs: 20, ms: 12, checksum: 1 },
    });
    expect(probe).toMatchObject({ phase: 'done', result: { runs: 20 } });
    await expect.poll(() => probe.provider?.summary).toBe('Running on CPU (no GPU provider is available)');
    await probe.checkProvider(true);
    expect(refreshes).toEqual([false, true]);
  });

  test('a failed provider query is reported apart from the engine check', async () => {
    const fake = fakeApi({
      app: { providers: async () => ({ ok: false, error: { code: 'internal', message: 'probe crashed' } }) },
    });
    const probe = new ProbeRunner(fake.api);
    await probe.checkProvider(true);
    expect(probe.providerError).toMatchObject({ message: 'probe crashed' });
    expect(probe.error).toBeNull();
  });
});
