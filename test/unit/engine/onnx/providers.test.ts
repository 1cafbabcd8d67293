import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ProviderCache } from '../../../../src-main/engine/onnx/provider-cache.ts';
import type { ProbeReport } from '../../../../src-main/engine/onnx/provider-probe.ts';
import { ProviderSelector } from '../../../../src-main/engine/onnx/provider-selector.ts';
import {
  ProviderError,
  executionProvidersFor,
  fallbackChain,
  selectProvider,
  selectionSummary,
  type ExecutionProvider,
  type PlatformInfo,
  type ProviderRequest,
  type SelectionDeps,
} from '../../../../src-main/engine/onnx/providers.ts';

const LINUX: PlatformInfo = { platform: 'linux', arch: 'x64', backends: ['cpu', 'webgpu', 'cuda', 'tensorrt'] };
const WINDOWS: PlatformInfo = { platform: 'win32', arch: 'x64', backends: ['cpu', 'dml', 'webgpu'] };
const MAC: PlatformInfo = { platform: 'darwin', arch: 'arm64', backends: ['cpu', 'coreml', 'webgpu'] };
const LINUX_ARM: PlatformInfo = { platform: 'linux', arch: 'arm64', backends: ['cpu'] };

const OK: ProbeReport = { ok: true, error: null, detail: null, cpuOps: [] };
const fail = (error: string): ProbeReport => ({ ok: false, error, detail: `onnxruntime: ${error}`, cpuOps: [] });
const partial = (...cpuOps: string[]): ProbeReport => ({ ok: true, error: null, detail: null, cpuOps });

const work = mkdtempSync(join(tmpdir(), 'atelier-providers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let fileCount = 0;
const cacheFile = () => join(work, `cache-${fileCount++}.json`);

/** Fake machine: `reports` answers each probe; every probe is recorded. */
function fakeMachine(
  platform: PlatformInfo,
  reports: Partial<Record<ExecutionProvider, ProbeReport>>,
  ortVersion = '1.30.0',
) {
  const probed: ExecutionProvider[] = [];
  const deps: SelectionDeps = {
    platform,
    probe: async (p) => {
      probed.push(p);
      return reports[p] ?? fail(`no report for ${p}`);
    },
    openCache: ProviderCache.open,
    ortVersion,
    now: () => new Date('2026-11-26T12:00:00Z'),
  };
  return { deps, probed };
}

const auto = (extra: Partial<ProviderRequest> = {}): ProviderRequest => ({
  preference: 'auto',
  appVersion: '0.1.0',
  ...extra,
});

describe('the fallback chain per OS (tech-notes.md §1.1)', () => {
  test.each([
    ['Linux x64', LINUX, ['cuda', 'webgpu', 'cpu']],
    ['Windows', WINDOWS, ['dml', 'webgpu', 'cpu']],
    ['macOS', MAC, ['webgpu', 'coreml', 'cpu']],
    ['Linux arm64 (CPU-only binding)', LINUX_ARM, ['cpu']],
    [
      'an OS without a GPU provider',
      { platform: 'freebsd', arch: 'x64', backends: ['cpu', 'webgpu'] } as PlatformInfo,
      ['cpu'],
    ],
  ])('%s', (_name, platform, chain) => expect(fallbackChain(platform)).toEqual(chain));

  test('a provider the binding does not list is not a candidate', () => {
    expect(fallbackChain({ ...LINUX, backends: ['cpu', 'webgpu'] })).toEqual(['webgpu', 'cpu']);
  });

  test('session options name each provider as the Node binding expects', () => {
    expect(executionProvidersFor('cuda')).toEqual([{ name: 'cuda', deviceId: 0 }]);
    expect(executionProvidersFor('dml')).toEqual([{ name: 'dml', deviceId: 0 }]);
    expect(executionProvidersFor('cpu')).toEqual(['cpu']);
    // The cache mode must reach every WebGPU session: the first one in the process fixes it (docs/gpu.md, L3).
    expect(executionProvidersFor('webgpu')).toEqual([
      { name: 'webgpu', storageBufferCacheMode: 'simple', validationMode: 'wgpuOnly' },
    ]);
  });
});

describe('automatic selection', () => {
  test('takes the first provider that runs every op, and probes no further', async () => {
    const { deps, probed } = fakeMachine(WINDOWS, { dml: OK, webgpu: OK });
    const s = await selectProvider(auto(), deps);
    expect(s).toMatchObject({ provider: 'dml', preference: 'auto', reason: 'the fastest provider available on win32' });
    expect(probed).toEqual(['dml']);
  });

  test('falls back visibly: each provider passed over says why', async () => {
    const { deps } = fakeMachine(LINUX, { cuda: fail('CUDA provider libraries are not installed'), webgpu: OK });
    const s = await selectProvider(auto(), deps);
    expect(s.provider).toBe('webgpu');
    expect(s.reason).toBe('CUDA provider libraries are not installed');
    expect(selectionSummary(s)).toBe('Running on WebGPU (CUDA provider libraries are not installed)');
    expect(s.tried.map((a) => [a.provider, a.ok])).toEqual([
      ['cuda', false],
      ['webgpu', true],
    ]);
  });

  test('ends on the CPU when no GPU provider works, listing every reason', async () => {
    const { deps } = fakeMachine(LINUX, {
      cuda: fail('CUDA provider libraries are not installed'),
      webgpu: fail('no WebGPU adapter: GPU driver missing or too old'),
    });
    const s = await selectProvider(auto(), deps);
    expect(s.provider).toBe('cpu');
    expect(s.reason).toBe(
      'CUDA provider libraries are not installed; no WebGPU adapter: GPU driver missing or too old',
    );
    expect(s.tried.map((a) => a.provider)).toEqual(['cuda', 'webgpu', 'cpu']);
  });

  test('a CPU-only platform says so', async () => {
    const { deps, probed } = fakeMachine(LINUX_ARM, {});
    const s = await selectProvider(auto(), deps);
    expect(s).toMatchObject({ provider: 'cpu', reason: 'onnxruntime offers no GPU provider for linux arm64' });
    expect(probed).toEqual([]);
  });

  test('prefers a provider that runs everything over an earlier one that hands ops to the CPU', async () => {
    const { deps } = fakeMachine(MAC, { webgpu: partial('LayerNormalization'), coreml: OK });
    const s = await selectProvider(auto(), deps);
    expect(s.provider).toBe('coreml');
    expect(s.reason).toBe('WebGPU: LayerNormalization would run on the CPU');
  });

  test('takes a partial GPU provider over the CPU, and names the ops that fall back', async () => {
    const { deps } = fakeMachine(MAC, {
      webgpu: partial('Erf', 'Resize'),
      coreml: fail('Core ML failed: unsupported op'),
    });
    const s = await selectProvider(auto(), deps);
    expect(s.provider).toBe('webgpu');
    expect(s.reason).toBe('Core ML failed: unsupported op; Erf, Resize would run on the CPU');
  });
});

describe('remembered failures', () => {
  test('a failed provider is written to the cache and skipped on the next start', async () => {
    const file = cacheFile();
    const first = fakeMachine(LINUX, { cuda: fail('CUDA provider libraries are not installed'), webgpu: OK });
    await selectProvider(auto({ cacheFile: file }), first.deps);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved).toMatchObject({
      format: 1,
      key: 'atelier 0.1.0 / onnxruntime 1.30.0 / linux-x64',
      failures: { cuda: { error: 'CUDA provider libraries are not installed', at: '2026-11-26T12:00:00.000Z' } },
    });
    expect(saved.failures.webgpu).toBeUndefined();

    const second = fakeMachine(LINUX, { cuda: OK, webgpu: OK });
    const s = await selectProvider(auto({ cacheFile: file }), second.deps);
    expect(second.probed).toEqual(['webgpu']);
    expect(s.provider).toBe('webgpu');
    expect(s.tried[0]).toMatchObject({
      provider: 'cuda',
      ok: false,
      cached: true,
      error: 'CUDA provider libraries are not installed',
    });
  });

  test('refresh forgets them and probes again', async () => {
    const file = cacheFile();
    await selectProvider(
      auto({ cacheFile: file }),
      fakeMachine(LINUX, { cuda: fail('CUDA provider libraries are not installed'), webgpu: OK }).deps,
    );
    const again = fakeMachine(LINUX, { cuda: OK });
    const s = await selectProvider(auto({ cacheFile: file, refresh: true }), again.deps);
    expect(again.probed).toEqual(['cuda']);
    expect(s.provider).toBe('cuda');
    expect(JSON.parse(readFileSync(file, 'utf8')).failures).toEqual({});
  });

  test('an upgrade of the app or of onnxruntime invalidates them', async () => {
    const file = cacheFile();
    await selectProvider(auto({ cacheFile: file }), fakeMachine(LINUX, { cuda: fail('x'), webgpu: OK }).deps);
    const newApp = fakeMachine(LINUX, { cuda: OK });
    expect((await selectProvider(auto({ cacheFile: file, appVersion: '0.2.0' }), newApp.deps)).provider).toBe('cuda');
    const newOrt = fakeMachine(LINUX, { cuda: OK }, '1.31.0');
    await selectProvider(auto({ cacheFile: file }), fakeMachine(LINUX, { cuda: fail('x'), webgpu: OK }).deps);
    expect((await selectProvider(auto({ cacheFile: file }), newOrt.deps)).provider).toBe('cuda');
  });

  test('a damaged cache file is ignored and replaced', async () => {
    const file = cacheFile();
    writeFileSync(file, '{ not json');
    const { deps, probed } = fakeMachine(LINUX, { cuda: OK });
    expect((await selectProvider(auto({ cacheFile: file }), deps)).provider).toBe('cuda');
    expect(probed).toEqual(['cuda']);
  });
});

describe('a provider the user names', () => {
  test('is probed even when remembered as failed, and used when it works', async () => {
    const file = cacheFile();
    await selectProvider(
      auto({ cacheFile: file }),
      fakeMachine(LINUX, { cuda: fail('CUDA provider libraries are not installed'), webgpu: OK }).deps,
    );
    const { deps, probed } = fakeMachine(LINUX, { cuda: OK });
    const s = await selectProvider({ preference: 'cuda', cacheFile: file }, deps);
    expect(probed).toEqual(['cuda']);
    expect(s).toMatchObject({ provider: 'cuda', preference: 'cuda', reason: 'requested' });
  });

  test('that fails is reported, never silently replaced by another', async () => {
    const { deps, probed } = fakeMachine(LINUX, {
      cuda: fail('CUDA provider libraries are not installed'),
      webgpu: OK,
    });
    const err = await selectProvider({ preference: 'cuda' }, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({
      code: 'unsupported',
      detail: { provider: 'cuda', error: 'CUDA provider libraries are not installed' },
    });
    expect((err as Error).message).toBe(
      'CUDA was requested but cannot be used: CUDA provider libraries are not installed. Choose Automatic to fall back to another provider.',
    );
    expect(probed).toEqual(['cuda']);
  });

  test('that this OS has no build of is refused without probing', async () => {
    const { deps, probed } = fakeMachine(LINUX, {});
    await expect(selectProvider({ preference: 'dml' }, deps)).rejects.toThrow(
      /DirectML was requested, but onnxruntime has no DirectML provider for linux x64/,
    );
    expect(probed).toEqual([]);
  });

  test('the CPU needs no probe', async () => {
    const { deps, probed } = fakeMachine(LINUX, {});
    expect(await selectProvider({ preference: 'cpu' }, deps)).toMatchObject({ provider: 'cpu', reason: 'requested' });
    expect(probed).toEqual([]);
  });

  test('that hands ops to the CPU is used, and says which', async () => {
    const { deps } = fakeMachine(WINDOWS, { webgpu: partial('Erf') });
    expect(await selectProvider({ preference: 'webgpu' }, deps)).toMatchObject({
      provider: 'webgpu',
      reason: 'requested; Erf would run on the CPU',
    });
  });
});

describe('ProviderSelector (the engine host keeps one choice per request)', () => {
  test('probes once for repeated requests, again on refresh, and retries after a failure', async () => {
    let cuda: ProbeReport = fail('CUDA provider libraries are not installed');
    const machine = fakeMachine(LINUX, {});
    const selector = new ProviderSelector(() => ({
      ...machine.deps,
      probe: async (p) => {
        machine.probed.push(p);
        return p === 'cuda' ? cuda : OK;
      },
    }));
    await expect(selector.select({ preference: 'cuda' })).rejects.toBeInstanceOf(ProviderError);
    cuda = OK;
    expect((await selector.select({ preference: 'cuda' })).provider).toBe('cuda');
    await selector.select({ preference: 'cuda' });
    expect(machine.probed).toEqual(['cuda', 'cuda']);
    await selector.select({ preference: 'cuda', refresh: true });
    expect(machine.probed).toEqual(['cuda', 'cuda', 'cuda']);
  });
});
