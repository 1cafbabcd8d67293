// `npm run bench -- gpu [options]`: the real OmniGen2 DiT (width 2520, 32 layers, 21/7 heads, 2 refiner layers,
// text_feat_dim 2048) with random fp16 weights written to a temp folder (~8 GB), per GPU provider: session creation
// time, host peak RSS, GPU memory (nvidia-smi, when present), ms per DiT forward at 1024² (4096 image tokens +
// ~120 text tokens) with 0 and 1 reference images, achieved TFLOP/s and projected seconds for 50-step
// text-to-image (2 branches a step) and editing (3 branches: c and r with the reference, u without, §5.8).
// Options: --providers webgpu,cuda  --cpu (adds the CPU EP: very slow at full size)  --layers N  --heads N
// (width 120·N)  --size PX  --text N  --runs N  --precision fp16-mixed|fp32|int8|int4  --out DIR (JSON + log)
// --work DIR (weights folder; default a temp folder, removed afterwards)  --cache-modes simple,bucket,lazyRelease,disabled
// (WebGPU storage buffer cache modes, one child process each; default simple, what the app uses)
// --profile (onnxruntime's profiler: time per op type and provider, top 12, traces kept under --out DIR/profiles).
// Each provider runs in its own child process (a crash or abort there cannot take the others down, and each
// peak RSS is its own); the parent samples GPU memory meanwhile (onnxruntime's run() blocks its own thread).
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DIT_GRAPHS, DitModel, parseDitConfig } from '../../src-main/engine/models/dit.ts';
import { Checkpoint, precisionPolicy, type Precision } from '../../src-main/engine/onnx/index.ts';
import {
  executionProvidersFor,
  webGpuProviderOptions,
  type WebGpuCacheMode,
} from '../../src-main/engine/onnx/providers.ts';
import { opTypeTimes } from './_profile.ts';
import { ditForwardFlops, gpuDitConfig, gpuDitItem, type GpuDitShape } from './_gpu-dit.ts';
import { median, peakRssMiB, printTable } from './_report.ts';
import { REALISTIC, writeRandomSafetensors } from './_synthetic-models.ts';
import { ditTensorShapes } from './_dit-synthetic.ts';

type Provider = 'webgpu' | 'cuda' | 'cpu';
const CACHE_MODES: readonly WebGpuCacheMode[] = ['simple', 'bucket', 'lazyRelease', 'disabled'];
interface Job {
  kind: 'probe' | 'bench';
  provider: Provider;
  root: string;
  shape: GpuDitShape;
  precision: Precision;
  runs: number;
  /** WebGPU storage buffer cache mode (one process per mode: the first session of a process fixes it). */
  cacheMode: WebGpuCacheMode;
  /** Folder for onnxruntime's profile traces, or null for no profiling. */
  profileDir: string | null;
}
type Result = Record<string, string | number>;

const STEPS = 50;
/** Op types listed per provider with --profile. */
const PROFILE_TOP = 12;
/** The app's session options per provider (providers.ts), with the cache mode under test for WebGPU. */
const ep = (job: Pick<Job, 'provider' | 'cacheMode'>): ort.InferenceSession.ExecutionProviderConfig =>
  job.provider === 'webgpu' ? webGpuProviderOptions(job.cacheMode) : executionProvidersFor(job.provider)[0]!;
const label = (job: Pick<Job, 'provider' | 'cacheMode'>) =>
  job.provider === 'webgpu' ? `webgpu/${job.cacheMode}` : job.provider;

/** Writes `<root>/transformer/` for `shape` with random fp16 weights (REALISTIC scales), tensor by tensor. */
function writeModel(root: string, shape: GpuDitShape): number {
  const configJson = gpuDitConfig(shape);
  mkdirSync(join(root, 'transformer'), { recursive: true });
  writeFileSync(join(root, 'transformer', 'config.json'), JSON.stringify(configJson));
  return writeRandomSafetensors(
    join(root, 'transformer', 'diffusion_pytorch_model.safetensors'),
    ditTensorShapes(parseDitConfig(configJson)),
    { rule: REALISTIC, dtype: 'F16', seed: 7 },
  );
}

/** Child: does dit_main of this precision create on the provider with CPU fallback forbidden, and at all? */
async function probe(job: Job): Promise<Result> {
  const cfg = parseDitConfig(gpuDitConfig(job.shape));
  const model = DIT_GRAPHS.dit_main(cfg, Checkpoint.open(join(job.root, 'transformer'), 'diffusion_pytorch_model'), {
    root: job.root,
    precision: job.precision,
  });
  const create = (strict: boolean) =>
    ort.InferenceSession.create(model.bytes, {
      executionProviders: [ep(job)],
      extra: {
        session: {
          model_external_initializers_file_folder_path: job.root,
          ...(strict ? { disable_cpu_ep_fallback: '1' } : {}),
        },
      },
    });
  try {
    if (job.provider === 'cpu') {
      await (await create(false)).release();
      return { provider: job.provider, ok: 1, placement: 'CPU EP' };
    }
    await (await create(true)).release();
    return { provider: job.provider, ok: 1, placement: 'every node on the provider' };
  } catch (strictError) {
    try {
      await (await create(false)).release();
      return {
        provider: job.provider,
        ok: 1,
        placement: `some nodes fall back to CPU: ${(strictError as Error).message.split('\n')[0]}`,
      };
    } catch (e) {
      return { provider: job.provider, ok: 0, placement: (e as Error).message.split('\n')[0]! };
    }
  }
}

/** Child: sessions and timed forwards on the provider. */
async function bench(job: Job): Promise<Result> {
  const t0 = performance.now();
  const profilePrefix = job.profileDir ? join(job.profileDir, label(job).replace('/', '-')) : undefined;
  const dit = await DitModel.load(job.root, {
    precision: job.precision,
    session: { executionProviders: [ep(job)], profileFilePrefix: profilePrefix },
  });
  const buildMs = performance.now() - t0;
  const t1 = performance.now();
  await dit.prepare('exact');
  const sessionMs = performance.now() - t1;
  const result: Result = {
    provider: label(job),
    precision: job.precision,
    'graph build ms': buildMs,
    'session create ms': sessionMs,
    'RSS after session create MiB': process.memoryUsage().rss / 2 ** 20,
    'host peak RSS after sessions MiB': peakRssMiB(),
  };
  const imageTokens = (job.shape.size / 16) ** 2;
  for (const refs of [0, 1]) {
    const item = await gpuDitItem(dit, job.shape, refs);
    const ms: number[] = [];
    const first = performance.now();
    await dit.forwardOne(item); // warm-up: kernels compile and buffers settle on the first call
    result[`first call ms (${refs} ref)`] = performance.now() - first;
    for (let i = 0; i < job.runs; i++) {
      const t = performance.now();
      await dit.forwardOne(item);
      ms.push(performance.now() - t);
    }
    const flops = ditForwardFlops(dit.config, job.shape.textTokens, imageTokens, refs * imageTokens);
    result[`ms/forward (${refs} ref)`] = median(ms);
    result[`TFLOP/s (${refs} ref)`] = (flops / 1e9 / median(ms)).toPrecision(3);
    result[`TFLOP/forward (${refs} ref)`] = (flops / 1e12).toPrecision(3);
  }
  await dit.release();
  if (profilePrefix) {
    const total = opTypeTimes(profilePrefix).reduce((a, t) => a + t.ms, 0);
    for (const t of opTypeTimes(profilePrefix).slice(0, PROFILE_TOP))
      result[`profile: ${t.op} on ${t.provider} ms (${t.calls} calls)`] =
        `${t.ms.toFixed(1)} (${((100 * t.ms) / total).toFixed(1)} %)`;
  }
  const [ms0, ms1] = [result['ms/forward (0 ref)'] as number, result['ms/forward (1 ref)'] as number];
  result[`t2i ${STEPS} steps s (DiT only)`] = (STEPS * 2 * ms0) / 1000;
  result[`edit ${STEPS} steps s (DiT only)`] = (STEPS * (2 * ms1 + ms0)) / 1000;
  result['host peak RSS MiB'] = peakRssMiB();
  return result;
}

/** GPU memory in use (MiB) and the GPU's name, or null without nvidia-smi. */
function nvidiaSmi(): Promise<{ usedMiB: number; name: string } | null> {
  return new Promise((done) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=memory.used,name', '--format=csv,noheader,nounits'],
      { timeout: 5000 },
      (err, out) => {
        if (err) return done(null);
        const [used, ...name] = out.trim().split('\n')[0]!.split(',');
        done({ usedMiB: Number(used), name: name.join(',').trim() });
      },
    );
  });
}

/** Runs a job in a child (this script again) while sampling GPU memory; rejects on a crash or timeout. */
async function inChild(job: Job, prefix: readonly string[], timeoutMs: number): Promise<Result> {
  const baseline = (await nvidiaSmi())?.usedMiB ?? null;
  let peak = baseline;
  const sampler = setInterval(() => {
    void nvidiaSmi().then((s) => {
      if (s && peak !== null) peak = Math.max(peak, s.usedMiB);
    });
  }, 250);
  try {
    const child = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1]!, ...prefix, '--child', JSON.stringify(job)],
      { stdio: ['ignore', 'pipe', 'inherit'], timeout: timeoutMs },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((done) => child.on('close', (c, signal) => done(signal ? -1 : c)));
    if (code !== 0)
      throw new Error(
        `${job.kind} child for ${job.provider} ended with ${code === -1 ? 'a signal (crash or timeout)' : `exit code ${code}`}`,
      );
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as Result;
    if (baseline !== null && peak !== null && job.kind === 'bench')
      result['GPU peak MiB (nvidia-smi, above idle)'] = peak - baseline;
    return result;
  } finally {
    clearInterval(sampler);
  }
}

function options(args: readonly string[]) {
  const value = (name: string, fallback: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1]! : fallback;
  };
  const shape: GpuDitShape = {
    layers: Number(value('--layers', '32')),
    heads: Number(value('--heads', '21')),
    size: Number(value('--size', '1024')),
    textTokens: Number(value('--text', '120')),
  };
  if (shape.size % 16 !== 0) throw new RangeError(`--size must be a multiple of 16, got ${shape.size}`);
  const providers = value('--providers', 'webgpu,cuda').split(',').filter(Boolean) as Provider[];
  if (args.includes('--cpu')) providers.push('cpu');
  const precision = value('--precision', 'fp16-mixed') as Precision;
  precisionPolicy(precision);
  const cacheModes = value('--cache-modes', 'simple').split(',').filter(Boolean) as WebGpuCacheMode[];
  for (const m of cacheModes)
    if (!CACHE_MODES.includes(m)) throw new RangeError(`--cache-modes takes ${CACHE_MODES.join(', ')}, got ${m}`);
  return {
    shape,
    providers,
    precision,
    cacheModes,
    profile: args.includes('--profile'),
    runs: Number(value('--runs', '3')),
    out: args.includes('--out') ? value('--out', '') : null,
    work: args.includes('--work') ? value('--work', '') : null,
    timeoutMs: 1000 * Number(value('--child-timeout', '900')),
  };
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    const job = JSON.parse(args[1]!) as Job;
    console.log(JSON.stringify(job.kind === 'probe' ? await probe(job) : await bench(job)));
    return;
  }
  const o = options(args);
  const prefix = process.argv.slice(2, process.argv.length - args.length); // `gpu` under the bench dispatcher, nothing in the bundle
  const log: string[] = [];
  const say = (line: string) => {
    console.log(line);
    log.push(line);
  };
  const gpu = await nvidiaSmi();
  say(
    `node ${process.version}, onnxruntime-node backends: ${ort
      .listSupportedBackends()
      .map((b) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`)
      .join(', ')}`,
  );
  say(`GPU: ${gpu ? `${gpu.name} (${gpu.usedMiB} MiB in use before the run)` : 'nvidia-smi not available'}`);
  say(
    `DiT: ${o.shape.layers} layers, ${o.shape.heads}/${o.shape.heads / 3} heads (width ${120 * o.shape.heads}), ${o.shape.size}² output = ${(o.shape.size / 16) ** 2} image tokens + ${o.shape.textTokens} text tokens; precision ${o.precision}`,
  );
  const work = o.work ?? mkdtempSync(join(tmpdir(), 'atelier-bench-gpu-'));
  const results: Result[] = [];
  const skipped: Result[] = [];
  try {
    const probeRoot = join(work, 'probe');
    const probeShape: GpuDitShape = { layers: 1, heads: 3, size: 64, textTokens: 8 };
    writeModel(probeRoot, probeShape);
    const root = join(work, 'model');
    let written = false;
    for (const provider of o.providers) {
      let p: Result;
      const cacheMode = o.cacheModes[0]!;
      try {
        p = await inChild(
          {
            kind: 'probe',
            provider,
            root: probeRoot,
            shape: probeShape,
            precision: o.precision,
            runs: 0,
            cacheMode,
            profileDir: null,
          },
          prefix,
          120_000,
        );
      } catch (e) {
        p = { provider, ok: 0, placement: (e as Error).message };
      }
      say(`${provider}: ${p.ok ? 'works' : 'unavailable'}: ${p.placement}`);
      if (!p.ok) {
        skipped.push({ provider, reason: p.placement! });
        continue;
      }
      if (!written) {
        const t = performance.now();
        const bytes = writeModel(root, o.shape);
        say(
          `wrote ${(bytes / 2 ** 30).toFixed(2)} GiB of random fp16 weights in ${((performance.now() - t) / 1000).toFixed(1)} s`,
        );
        written = true;
      }
      for (const mode of provider === 'webgpu' ? o.cacheModes : [cacheMode]) {
        const profileDir = o.profile ? join(o.out ?? work, 'profiles') : null;
        if (profileDir) mkdirSync(profileDir, { recursive: true });
        const job: Job = {
          kind: 'bench',
          provider,
          root,
          shape: o.shape,
          precision: o.precision,
          runs: o.runs,
          cacheMode: mode,
          profileDir,
        };
        try {
          results.push({ ...(await inChild(job, prefix, o.timeoutMs)), placement: p.placement! });
        } catch (e) {
          skipped.push({ provider: label(job), reason: (e as Error).message });
          say(`${label(job)}: benchmark failed: ${(e as Error).message}`);
        }
      }
    }
    if (results.length === 0)
      say(`skipped: no provider could run the DiT (${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')})`);
    printTable(
      'memory and time per provider (host RSS: with lavapipe the "GPU" buffers live in host memory)',
      results.map((r) => ({
        provider: r.provider!,
        'RSS after sessions MiB': r['RSS after session create MiB']!,
        'peak RSS MiB': r['host peak RSS MiB']!,
        'peak − sessions MiB': (r['host peak RSS MiB'] as number) - (r['RSS after session create MiB'] as number),
        'GPU peak MiB': r['GPU peak MiB (nvidia-smi, above idle)'] ?? '-',
        'ms/forward (0 ref)': r['ms/forward (0 ref)']!,
        'ms/forward (1 ref)': r['ms/forward (1 ref)']!,
      })),
    );
    for (const r of results)
      printTable(
        `${r.provider} (${gpu?.name ?? 'no nvidia-smi'})`,
        Object.entries(r).map(([k, v]) => ({ figure: k, value: v })),
      );
    if (o.out) {
      mkdirSync(o.out, { recursive: true });
      writeFileSync(
        join(o.out, 'gpu-bench.json'),
        JSON.stringify({ gpu, shape: o.shape, precision: o.precision, results, skipped, log }, null, 1),
      );
    }
  } finally {
    if (!o.work) rmSync(work, { recursive: true, force: true });
  }
}
