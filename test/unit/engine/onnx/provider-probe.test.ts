import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import {
  LONG_ATTENTION,
  childProcessProbe,
  describeFailure,
  readProbeRun,
} from '../../../../src-main/engine/onnx/provider-probe.ts';
import { currentPlatform, machineSelectionDeps } from '../../../../src-main/engine/onnx/provider-selector.ts';
import { executionProvidersFor, fallbackChain, selectProvider } from '../../../../src-main/engine/onnx/providers.ts';

const probe = childProcessProbe({ executionProviders: executionProvidersFor });

describe('the real probe (a child process per provider)', () => {
  // The CPU runs every probe graph: so no probe graph is broken, and a GPU provider's failures are its own.
  test('the CPU runs every op of the probe vocabulary', async () => {
    expect(await probe('cpu')).toEqual({ ok: true, error: null, detail: null, cpuOps: [] });
  });

  test('a provider this binding was not built with fails with a reason, not a crash', async () => {
    const absent = process.platform === 'win32' ? 'coreml' : 'dml';
    const report = await probe(absent);
    expect(report).toMatchObject({ ok: false, cpuOps: [] });
    expect(report.error).toMatch(/is not part of this onnxruntime build/);
  });

  // What this repository's Linux machines have: the CUDA provider listed but its NuGet libraries not installed
  // (tech-notes.md §1.1), and no Vulkan adapter for WebGPU. Elsewhere the assertions would be different, so skip.
  const bare =
    process.platform === 'linux' &&
    process.arch === 'x64' &&
    ort.listSupportedBackends().some((b) => b.name === 'cuda' && !b.bundled);
  test.skipIf(!bare)(
    'on a Linux machine without the CUDA libraries, automatic selection explains why it runs where it runs',
    async () => {
      const s = await selectProvider({ preference: 'auto' }, machineSelectionDeps());
      const cuda = s.tried.find((a) => a.provider === 'cuda')!;
      if (cuda.ok) return; // the NuGet libraries are installed on this machine after all
      expect(cuda.error).toBe('CUDA provider libraries are not installed');
      expect(cuda.detail).toMatch(/Failed to load shared library/);
      expect(s.reason.startsWith('CUDA provider libraries are not installed')).toBe(true);
      expect(fallbackChain(currentPlatform())).toEqual(['cuda', 'webgpu', 'cpu']);
    },
  );
});

describe('onnxruntime messages become reasons a user can act on', () => {
  test.each([
    [
      'cuda',
      'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
      'CUDA provider libraries are not installed',
    ],
    [
      'webgpu',
      'Failed to get a WebGPU adapter: No supported adapters',
      'no WebGPU adapter: GPU driver missing or too old',
    ],
    [
      'dml',
      'no available backend found. ERR: [dml] backend not found.',
      'DirectML is not part of this onnxruntime build',
    ],
    [
      'cuda',
      'CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version',
      'no usable NVIDIA GPU or driver',
    ],
    ['cuda', 'Could not load library libcudnn_ops.so.9', 'cuDNN 9 is not installed'],
    ['coreml', 'something new\nwith a second line', 'Core ML failed: something new'],
  ] as const)('%s: %s', (provider, message, reason) => expect(describeFailure(provider, message)).toBe(reason));
});

describe('reading a probe run', () => {
  const FALLBACK =
    'This session contains graph nodes that are assigned to the default CPU EP, but fallback to CPU EP has been explicitly disabled by the user.';
  const ran = (name: string, error: string | null = null) => [{ start: name }, { name, error }];

  test('ops whose session needs the CPU are named; other failures carry their message', () => {
    const run = {
      lines: [
        ...ran('core'),
        ...ran('Erf', FALLBACK),
        ...ran('Softmax'),
        ...ran('Resize', 'kernel compile failed\nat line 3'),
      ],
      stderr: '',
      abnormal: null,
    };
    expect(readProbeRun('webgpu', run)).toEqual({
      ok: true,
      error: null,
      detail: null,
      cpuOps: ['Erf', 'Resize (kernel compile failed)'],
    });
  });

  test('an op that runs but disagrees with the CPU makes the provider unusable, naming the op and the error', () => {
    const run = {
      lines: [...ran('core'), ...ran('Softmax'), ...ran(LONG_ATTENTION, 'wrong results: off by 0.0048 from the CPU')],
      stderr: '',
      abnormal: null,
    };
    expect(readProbeRun('webgpu', run)).toEqual({
      ok: false,
      error:
        'WebGPU computes MultiHeadAttention over 64 tokens wrongly on this GPU or driver (off by 0.0048 from the CPU)',
      detail: 'wrong results: off by 0.0048 from the CPU',
      cpuOps: [],
    });
  });

  test('a crash while an op was probed blames that op, and keeps the stderr', () => {
    const run = {
      lines: [...ran('core'), { start: 'MultiHeadAttention' }],
      stderr: 'Segmentation fault',
      abnormal: 'crashed (SIGSEGV)',
    };
    expect(readProbeRun('webgpu', run)).toEqual({
      ok: true,
      error: null,
      detail: 'Segmentation fault',
      cpuOps: ['MultiHeadAttention (the probe process crashed (SIGSEGV))'],
    });
  });

  test('a provider whose core model fails is unusable', () => {
    const run = {
      lines: ran('core', 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'),
      stderr: '',
      abnormal: null,
    };
    expect(readProbeRun('cuda', run)).toMatchObject({
      ok: false,
      error: 'CUDA provider libraries are not installed',
      cpuOps: [],
    });
  });

  test('a probe that never answered says how it ended', () => {
    expect(readProbeRun('webgpu', { lines: [], stderr: '', abnormal: 'did not finish within 60 s' })).toMatchObject({
      ok: false,
      error: 'the probe process did not finish within 60 s',
    });
    expect(
      readProbeRun('webgpu', { lines: [{ start: 'core' }], stderr: '', abnormal: 'crashed (SIGABRT)' }),
    ).toMatchObject({ ok: false, error: 'WebGPU failed: the probe process crashed (SIGABRT)' });
  });
});
