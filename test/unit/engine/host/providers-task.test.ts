import { afterAll, describe, expect, test } from 'vitest';
import { startWorkerEngine } from '../../../../src-main/engine/host/worker-engine.ts';
import type { ProviderSelection } from '../../../../src-main/engine/onnx/providers.ts';

describe("the engine host's 'providers' task", () => {
  const engine = startWorkerEngine();
  afterAll(() => engine.dispose());

  test('answers with the choice and its reason', async () => {
    const s = (await engine.run('providers-cpu', {
      kind: 'providers',
      request: { preference: 'cpu' },
    })) as ProviderSelection;
    expect(s).toMatchObject({
      provider: 'cpu',
      preference: 'cpu',
      reason: 'requested',
      tried: [{ provider: 'cpu', ok: true }],
    });
  });

  test('a provider this OS has no build of fails with the code the app shows as unsupported', async () => {
    const absent = process.platform === 'win32' ? 'coreml' : 'dml';
    await expect(
      engine.run('providers-absent', { kind: 'providers', request: { preference: absent } }),
    ).rejects.toMatchObject({ code: 'unsupported', detail: { provider: absent } });
  });
});
