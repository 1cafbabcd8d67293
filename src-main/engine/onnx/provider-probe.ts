import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Graph } from './graph.ts';
import type { Value } from './graph-core.ts';
import type { ExecutionProvider } from './providers.ts';

/** What one provider's probe found. */
export interface ProbeReport {
  /** The provider runs graphs on this machine (its core probe created a session and ran it). */
  readonly ok: boolean;
  /** Why not, in words a user can act on; null when ok. */
  readonly error: string | null;
  /** onnxruntime's own message and the probe process's stderr tail, for logs and bug reports. */
  readonly detail: string | null;
  /** Ops of Atelier's graphs that this provider would hand to the CPU one node at a time (empty: none). */
  readonly cpuOps: readonly string[];
}

export type ProviderProbe = (provider: ExecutionProvider) => Promise<ProbeReport>;

interface ProbeModel {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly feeds: readonly { name: string; dims: readonly number[] }[];
  /** Also run on the CPU EP in the probe process and fail when the outputs differ by more than this. */
  readonly checkAgainstCpu?: number;
}

const TOKENS = [1, 8, 16] as const; // [B, S, hidden]: two heads of 8
/**
 * onnxruntime 1.30's WebGPU MultiHeadAttention takes another kernel from 32 query tokens on (flash-attention
 * prefill instead of split-reduce); on Mesa's lavapipe that kernel is wrong by ~0.2 for every head size tried
 * (docs/gpu.md). Every real image has far more tokens, so the provider must be checked at this length.
 */
const LONG_TOKENS = [1, 64, 16] as const;
/** fp32 attention of values ≤ 1 agrees with the CPU to ~1e-6 where the kernel is right; the wrong one is off by ~0.2. */
const ATTENTION_CHECK_TOLERANCE = 1e-3;
const IMAGE = [1, 8, 8, 8] as const; // [N, C, H, W]

/**
 * One tiny graph per op family the DiT, VAE and Qwen graphs emit, built with the same Graph methods (so the
 * same op forms: MultiHeadAttention rather than opset-23 Attention, GroupNorm as InstanceNormalization…,
 * tech-notes.md §1.6). The first, `core`, only proves the provider runs at all.
 */
function probeModels(): ProbeModel[] {
  const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) / 4);
  const tokens = (name: string, build: (g: Graph, x: Value) => Value): ProbeModel => {
    const g = new Graph({ name });
    g.output(build(g, g.input('x', 'float32', TOKENS)), 'y');
    return { name, bytes: g.build().bytes, feeds: [{ name: 'x', dims: TOKENS }] };
  };
  const image = (name: string, build: (g: Graph, x: Value) => Value): ProbeModel => {
    const g = new Graph({ name });
    g.output(build(g, g.input('x', 'float32', IMAGE)), 'y');
    return { name, bytes: g.build().bytes, feeds: [{ name: 'x', dims: IMAGE }] };
  };
  const longAttention = (): ProbeModel => {
    const g = new Graph({ name: LONG_ATTENTION });
    const x = g.input('x', 'float32', LONG_TOKENS);
    g.output(g.multiHeadAttention(g.mulScalar(x, 8), x, g.tanh(x), { numHeads: 2 }), 'y'); // sharp softmax rows
    return {
      name: LONG_ATTENTION,
      bytes: g.build().bytes,
      feeds: [{ name: 'x', dims: LONG_TOKENS }],
      checkAgainstCpu: ATTENTION_CHECK_TOLERANCE,
    };
  };
  const D = TOKENS[2];
  const C = IMAGE[1];
  const matrix = (g: Graph) => g.constant(ramp(D * D), 'float32', [D, D]);
  const vector = (g: Graph, n: number, v = 1) => g.constant(new Float32Array(n).fill(v), 'float32', [n]);
  const table = (g: Graph) => g.constant(ramp((TOKENS[1] * D) / 4).map(Math.cos), 'float32', [1, TOKENS[1], D / 4]);
  return [
    tokens('core', (g, x) => g.tanh(g.matMul(x, matrix(g)))),
    tokens('Gemm', (g, x) => g.linear(x, { weight: matrix(g), bias: vector(g, D) })),
    tokens('SiLU', (g, x) => g.silu(x)),
    tokens('Softmax', (g, x) => g.softmax(x, -1)),
    tokens('RMSNormalization', (g, x) => g.rmsNorm(x, vector(g, D), 1e-5)),
    tokens('LayerNormalization', (g, x) => g.layerNorm(x, vector(g, D), null, 1e-6)),
    tokens('RotaryEmbedding', (g, x) => g.rotaryEmbedding(x, table(g), table(g), { numHeads: 2, interleaved: true })),
    tokens('MultiHeadAttention', (g, x) => g.multiHeadAttention(x, x, x, { numHeads: 2 })),
    longAttention(),
    tokens('Expand', (g, x) =>
      g.repeatKvHeads(g.slice(x, { starts: [0], ends: [8], axes: [2] }), { kvHeads: 1, groups: 2, headDim: 8 }),
    ),
    tokens('Erf', (g, x) => g.erf(x)),
    tokens('ReduceMean', (g, x) => g.reduceMean(x, [-1], true)),
    tokens('Concat/Split/Transpose', (g, x) => g.transpose(g.concat(g.split(x, 2, -1), 1), [0, 2, 1])),
    image('Conv', (g, x) =>
      g.conv(x, g.constant(ramp(C * C * 9), 'float32', [C, C, 3, 3]), vector(g, C), { pads: [1, 1, 1, 1] }),
    ),
    image('InstanceNormalization', (g, x) =>
      g.reshape(g.instanceNorm(g.reshape(x, [1, 4, -1, IMAGE[3]]), vector(g, 4), vector(g, 4, 0), 1e-6), [...IMAGE]),
    ),
    image('Resize', (g, x) =>
      g.resize(x, [1, 1, 2, 2], { mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' }),
    ),
  ];
}

// Runs in a separate process so that a provider that aborts natively (tech-notes.md §1.7) cannot take the engine
// down, and so that driver chatter on stderr (Dawn's "Couldn't load Vulkan") lands in the report, not the UI.
// Plain CommonJS, no imports of ours: it runs the same under node, tsx and Electron's node mode. One JSON line
// per model, so a crash still tells which op was being probed.
const CHILD_SOURCE = `
let text = '';
process.stdin.on('data', (d) => { text += d; });
process.stdin.on('end', async () => {
  const req = JSON.parse(text);
  const ort = require(req.ortPath);
  for (const m of req.models) {
    process.stdout.write(JSON.stringify({ start: m.name }) + '\\n');
    let error = null;
    try {
      const session = await ort.InferenceSession.create(Buffer.from(m.bytes, 'base64'), { executionProviders: req.executionProviders, graphOptimizationLevel: 'all', extra: { session: req.sessionConfig } });
      const feeds = {};
      for (const f of m.feeds) feeds[f.name] = new ort.Tensor('float32', Float32Array.from({ length: f.dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i) / 2), f.dims);
      const out = await session.run(feeds);
      if (!Object.values(out).every((t) => Array.from(t.data).every(Number.isFinite))) error = 'the probe produced non-finite values';
      await session.release();
      if (error === null && m.checkAgainstCpu !== undefined) {
        const cpu = await ort.InferenceSession.create(Buffer.from(m.bytes, 'base64'), { executionProviders: ['cpu'] });
        const want = await cpu.run(feeds);
        let worst = 0;
        for (const [k, t] of Object.entries(want)) for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i] - out[k].data[i]));
        if (!(worst <= m.checkAgainstCpu)) error = 'wrong results: off by ' + worst.toPrecision(2) + ' from the CPU';
        await cpu.release();
      }
    } catch (e) {
      error = String((e && e.message) || e);
    }
    process.stdout.write(JSON.stringify({ name: m.name, error }) + '\\n');
    if (error !== null && m.name === 'core') break;
  }
});
`;

export interface ChildProbeOptions {
  /** Time limit per provider, all its probe graphs together (default 60 s). */
  readonly timeoutMs?: number;
  /** What each provider is asked for (providers.ts executionProvidersFor). */
  readonly executionProviders: (provider: ExecutionProvider) => readonly unknown[];
}

/**
 * Probes a provider in a child process with `session.disable_cpu_ep_fallback = 1`, so a session whose nodes
 * do not all run on the provider fails instead of silently splitting (tech-notes.md §1.9). The CPU provider is run
 * without that flag (the CPU EP is the fallback itself; the flag makes every CPU session fail).
 */
export function childProcessProbe(options: ChildProbeOptions): ProviderProbe {
  const models = probeModels();
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  return async (provider) => {
    const request = JSON.stringify({
      ortPath,
      executionProviders: options.executionProviders(provider),
      sessionConfig: provider === 'cpu' ? {} : { disable_cpu_ep_fallback: '1' },
      models: models.map((m) => ({
        name: m.name,
        bytes: Buffer.from(m.bytes).toString('base64'),
        feeds: m.feeds,
        checkAgainstCpu: provider === 'cpu' ? undefined : m.checkAgainstCpu,
      })),
    });
    const run = await runChild(request, options.timeoutMs ?? 60_000);
    return readProbeRun(provider, run);
  };
}

/** What the probe process wrote (one JSON line per model) and how it ended. */
export interface ChildRun {
  readonly lines: readonly ({ start: string } | { name: string; error: string | null })[];
  readonly stderr: string;
  /** null when the child exited by itself with code 0. */
  readonly abnormal: string | null;
}

// eslint-disable-next-line no-control-regex -- ESC is exactly what an ANSI colour code starts with
const ANSI_COLOURS = /\x1b\[[0-9;]*m/g;

function runChild(request: string, timeoutMs: number): Promise<ChildRun> {
  return new Promise((resolve) => {
    // ELECTRON_RUN_AS_NODE: in the desktop app process.execPath is Electron, which then behaves as node.
    const child = spawn(process.execPath, ['-e', CHILD_SOURCE], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString().replace(ANSI_COLOURS, '')).slice(-4000);
    });
    child.on('error', (e) => {
      stderr += `\n${e.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as ChildRun['lines'][number]];
          } catch {
            return [];
          }
        });
      const abnormal = timedOut
        ? `did not finish within ${Math.round(timeoutMs / 1000)} s`
        : signal !== null
          ? `crashed (${signal})`
          : code !== 0
            ? `exited with code ${code}`
            : null;
      resolve({ lines, stderr: stderr.trim(), abnormal });
    });
    child.stdin.end(request);
  });
}

const FALLBACK_MESSAGE = /fallback to CPU EP has been explicitly disabled/i;
const WRONG_RESULTS = /^wrong results:/;
/** The probe graph that checks attention at image lengths against the CPU. */
export const LONG_ATTENTION = `MultiHeadAttention over ${LONG_TOKENS[1]} tokens`;

/** The report of one probe run: the core model decides whether the provider works, the others which ops fall back. */
export function readProbeRun(provider: ExecutionProvider, run: ChildRun): ProbeReport {
  const results = new Map<string, string | null>();
  let running: string | null = null;
  for (const line of run.lines) {
    if ('start' in line) running = line.start;
    else {
      results.set(line.name, line.error);
      running = null;
    }
  }
  // A crash while a model was being probed is that model's failure.
  if (running !== null) results.set(running, `the probe process ${run.abnormal ?? 'stopped'}`);
  const core = results.get('core');
  const detail = (message: string | null) => [message, run.stderr].filter((s) => s).join('\n') || null;
  if (core === undefined) {
    const why = run.abnormal ? `the probe process ${run.abnormal}` : 'the probe process reported nothing';
    return { ok: false, error: why, detail: detail(null), cpuOps: [] };
  }
  if (core !== null) return { ok: false, error: describeFailure(provider, core), detail: detail(core), cpuOps: [] };
  // An op that runs but computes wrong values makes the provider unusable: every image would be wrong.
  const wrong = [...results].find(([, error]) => error !== null && WRONG_RESULTS.test(error));
  if (wrong)
    return {
      ok: false,
      error: `${PROVIDER_NAMES[provider]} computes ${wrong[0]} wrongly on this GPU or driver (${wrong[1]!.replace(WRONG_RESULTS, '').trim()})`,
      detail: detail(wrong[1]),
      cpuOps: [],
    };
  const cpuOps = [...results]
    .filter(([name, error]) => name !== 'core' && error !== null)
    .map(([name, error]) => (FALLBACK_MESSAGE.test(error!) ? name : `${name} (${firstLine(error!)})`));
  return { ok: true, error: null, detail: cpuOps.length > 0 ? detail(null) : null, cpuOps };
}

const PROVIDER_NAMES: Record<ExecutionProvider, string> = {
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'Core ML',
  webgpu: 'WebGPU',
  cpu: 'CPU',
};

/** onnxruntime's message as a reason a user can act on (tech-notes.md §1.1 lists the ones seen). */
export function describeFailure(provider: ExecutionProvider, message: string): string {
  const name = PROVIDER_NAMES[provider];
  if (/cudnn/i.test(message)) return 'cuDNN 9 is not installed';
  if (/Failed to load (shared )?library|cannot open shared object|providers_shared/i.test(message)) {
    return provider === 'cuda'
      ? 'CUDA provider libraries are not installed'
      : `${name} provider libraries could not be loaded`;
  }
  if (/backend not found|not (built|compiled)|unsupported execution provider/i.test(message))
    return `${name} is not part of this onnxruntime build`;
  if (/No supported adapters|WebGPU adapter/i.test(message)) return 'no WebGPU adapter: GPU driver missing or too old';
  if (/CUDA driver version is insufficient|no CUDA-capable device|cudaGetDeviceCount|CUDA failure 100/i.test(message))
    return 'no usable NVIDIA GPU or driver';
  if (FALLBACK_MESSAGE.test(message)) return `${name} cannot run even a MatMul by itself`;
  return `${name} failed: ${firstLine(message).slice(0, 200)}`;
}

const firstLine = (s: string) => s.split('\n')[0]!.trim();
