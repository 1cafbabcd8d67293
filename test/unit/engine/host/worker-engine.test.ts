import { afterAll, describe, expect, test } from 'vitest';
import { startWorkerEngine } from '../../../../src-main/engine/host/worker-engine.ts';
import type { EngineProgress } from '../../../../src-main/engine/host/protocol.ts';

describe('engine host in a worker thread', () => {
  const engine = startWorkerEngine();
  afterAll(() => engine.dispose());

  test('runs a real ONNX Runtime session without blocking the caller', async () => {
    await engine.run('warm-up', { kind: 'probe', size: 8, runs: 1 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const progress: EngineProgress[] = [];
    const started = performance.now();
    const result = (await engine.run('probe-1', { kind: 'probe', size: 384, runs: 40 }, { onProgress: (p) => progress.push(p) })) as { ms: number; runs: number; provider: string; checksum: number };
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(result).toMatchObject({ runs: 40, provider: 'cpu' });
    expect(Number.isFinite(result.checksum)).toBe(true);
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // A 10 ms timer on a free event loop fires about elapsed/10 times; a blocked loop fires a handful at most.
    expect(elapsed).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThan((elapsed / 10) * 0.5);
  });

  test('cancellation stops a job between steps with a typed error', async () => {
    const controller = new AbortController();
    const run = engine.run('probe-2', { kind: 'probe', size: 256, runs: 100_000 }, {
      signal: controller.signal,
      onProgress: (p) => { if (p.step === 3) controller.abort(); },
    });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    await expect(engine.run('probe-3', { kind: 'probe', size: 4, runs: 1 })).resolves.toMatchObject({ runs: 1 });
  });

  test('a failing task reports its code across the boundary', async () => {
    const job = {
      modelDir: '/nonexistent/model', prompt: 'a cat', negative: '', images: [], numImages: 1, previews: false,
      params: { steps: 1, textGuidance: 1, imageGuidance: 1, cfgRange: [0, 1] as const, scheduler: 'euler' as const, width: 64, height: 64, maxPixels: 4096, maxSideLength: 64, seed: 0 },
    };
    await expect(engine.run('gen', { kind: 'generate', job })).rejects.toMatchObject({ code: 'model-missing', message: expect.stringMatching(/no model folder/) });
  });
});
