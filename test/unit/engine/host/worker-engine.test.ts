import { afterAll, describe, expect, test } from 'vitest';
import { startWorkerEngine } from '../../../../src-main/engine/host/worker-engine.ts';
import type { EngineProgress } from '../../../../src-main/engine/host/protocol.ts';

describe('engine host in a worker thread', () => {
  const engine = startWorkerEngine();
  afterAll(() => engine.dispose());

  test('runs a real ONNX Runtime session and reports every step', async () => {
    const progress: EngineProgress[] = [];
    const result = (await engine.run(
      'probe-1',
      { kind: 'probe', size: 64, runs: 40 },
      { onProgress: (p) => progress.push(p) },
    )) as { ms: number; runs: number; provider: string; checksum: number };
    expect(result).toMatchObject({ runs: 40, provider: 'cpu' });
    expect(Number.isFinite(result.checksum)).toBe(true);
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  test('the event loop of the caller stays free while a job runs', async () => {
    // Order, not duration: a timer set on the caller's thread after the first step must fire while the job still
    // reports steps. Were the job computed on this thread, the timer could only fire once it had finished.
    const log: string[] = [];
    const controller = new AbortController();
    const run = engine.run(
      'probe-live',
      { kind: 'probe', size: 64, runs: 1_000_000 },
      {
        signal: controller.signal,
        onProgress: () => {
          if (log.length === 0) setTimeout(() => log.push('timer'), 0);
          log.push('step');
          if (log.includes('timer') && log.at(-1) === 'step' && log.at(-2) === 'step') controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    const timer = log.indexOf('timer');
    expect(timer).toBeGreaterThan(0);
    expect(log.slice(timer + 1).filter((e) => e === 'step').length).toBeGreaterThanOrEqual(2);
  });

  test('cancellation stops a job between steps with a typed error', async () => {
    const controller = new AbortController();
    const run = engine.run(
      'probe-2',
      { kind: 'probe', size: 256, runs: 100_000 },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step === 3) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    await expect(engine.run('probe-3', { kind: 'probe', size: 4, runs: 1 })).resolves.toMatchObject({ runs: 1 });
  });

  test('a failing task reports its code across the boundary', async () => {
    const job = {
      modelDir: '/nonexistent/model',
      prompt: 'a cat',
      negative: '',
      images: [],
      numImages: 1,
      previews: false,
      params: {
        steps: 1,
        textGuidance: 1,
        imageGuidance: 1,
        cfgRange: [0, 1] as const,
        scheduler: 'euler' as const,
        width: 64,
        height: 64,
        maxPixels: 4096,
        maxSideLength: 64,
        seed: 0,
      },
    };
    await expect(engine.run('gen', { kind: 'generate', job })).rejects.toMatchObject({
      code: 'model-missing',
      message: expect.stringMatching(/no model folder/),
    });
  });
});
