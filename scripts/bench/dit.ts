// `npm run bench -- dit [--only tiny|mid] [--runs N] [--threads N] [--accel teacache|taylorseer] [--threshold X]
// [--steps N] [--profile]`: DiT graph build, session creation, forward latency and peak RSS for the tiny golden
// config and a mid-size synthetic one, set against this machine's onnxruntime MatMul throughput measured in the
// same run (issue 3's target: the mid-size forward within 2× of its MatMul-bound time). `--accel` adds a sampled
// trajectory with TeaCache or TaylorSeer (§6); `--profile` adds onnxruntime's time per op type for one dit_main call.
// Every measurement runs in its own child process, so each peak RSS is its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  DIT_GRAPHS,
  DitModel,
  DitStepCache,
  type DitAcceleration,
  type DitConfig,
  type DitItemInputs,
} from '../../src-main/engine/models/dit.ts';
import { Checkpoint, Graph, OnnxSession, f32, type SessionOptions } from '../../src-main/engine/onnx/index.ts';
import { MID_DIT_CONFIG, ditForwardFlops, writeSyntheticDit } from './_dit-synthetic.ts';
import { median, peakRssMiB, printTable, timeRuns } from './_report.ts';
import { goldenDir } from '../../test/helpers/golden.ts';

const GOLDEN_DIT = join(goldenDir(), 'transformer');

interface Workload {
  label: string;
  dir: string;
  textTokens: number;
  latent: [number, number];
}
type Row = Record<string, string | number>;
type Job =
  | { kind: 'matmul'; runs: number; threads?: number }
  | { kind: 'latency'; w: Workload; runs: number; threads?: number }
  | { kind: 'accel'; w: Workload; accel: DitAcceleration; steps: number; threads?: number }
  | { kind: 'profile'; w: Workload; threads?: number };

/** MatMul shapes timed as chains of Gemm(transB) on distinct fp32 weights, the op every DiT linear uses. */
const MATMULS = [
  { label: '[1088,640]·[640,640] ×8', rows: 1088, dims: Array(9).fill(640) as number[] },
  { label: '[1088,640]·[640,2560]·[2560,640] ×2', rows: 1088, dims: [640, 2560, 640, 2560, 640] },
  { label: '[2048,2048]·[2048,2048] ×2', rows: 2048, dims: [2048, 2048, 2048] },
];
/** The chain timed alongside each DiT forward: the mid-size config's SwiGLU shapes, most of its FLOPs. */
const FFN_CHAIN = 1;

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return 2 * (s / 2 ** 32) - 1;
  });
}

const sessionOptions = (threads?: number): SessionOptions =>
  threads === undefined ? {} : { intraOpNumThreads: threads };

/** A session running one MATMULS chain, and its FLOPs per run. */
async function matmulChain(
  k: number,
  threads?: number,
): Promise<{ flops: number; run: () => Promise<unknown>; release: () => Promise<void> }> {
  const m = MATMULS[k]!;
  const g = new Graph({ name: `matmul_${k}` });
  let y = g.input('a', 'float32', [m.rows, m.dims[0]!]);
  let flops = 0;
  for (let i = 1; i < m.dims.length; i++) {
    const [inp, out] = [m.dims[i - 1]!, m.dims[i]!];
    y = g.linear(y, { weight: g.constant(random(out * inp, 7 * k + i), 'float32', [out, inp]), bias: null });
    flops += 2 * m.rows * inp * out;
  }
  g.output(y, 'y');
  const session = await OnnxSession.create(g.build(), sessionOptions(threads));
  const a = f32(random(m.rows * m.dims[0]!, 99), [m.rows, m.dims[0]!]);
  return { flops, run: () => session.run({ a }), release: () => session.release() };
}

async function matmulJob(job: Extract<Job, { kind: 'matmul' }>): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [k, m] of MATMULS.entries()) {
    const chain = await matmulChain(k, job.threads);
    const ms = median(await timeRuns(chain.run, job.runs));
    await chain.release();
    rows.push({ matmul: m.label, GFLOP: chain.flops / 1e9, ms: ms, 'GFLOP/s': chain.flops / 1e6 / ms });
  }
  return rows;
}

async function itemFor(dit: DitModel, w: Workload, t: number, seed = 1): Promise<DitItemInputs> {
  const F = dit.config.textFeatDim;
  const text = await dit.embedText(random(w.textTokens * F, 5), w.textTokens);
  const [h, wd] = w.latent;
  const noise = random(dit.config.inChannels * h * wd, seed);
  const data = random(dit.config.inChannels * h * wd, seed + 1);
  // a point on the flow path x_t = (1 − t)·noise + t·data (§5.6), as a trajectory visits them
  const latent = { data: noise.map((v, i) => (1 - t) * v + t * data[i]!), dims: [dit.config.inChannels, h, wd] };
  return { latent, timestep: t, text };
}

async function latencyJob(job: Extract<Job, { kind: 'latency' }>): Promise<Row[]> {
  let t = performance.now();
  const dit = await DitModel.load(job.w.dir, { session: sessionOptions(job.threads) });
  const buildMs = performance.now() - t;
  t = performance.now();
  await dit.prepare();
  const sessionMs = performance.now() - t;
  const item = await itemFor(dit, job.w, 0.5);
  await dit.forwardOne(item);
  const peakMiB = peakRssMiB(); // before the MatMul chain's own weights
  // The FFN-shaped chain runs between the forward calls, so both see the same load on a shared machine.
  const chain = await matmulChain(FFN_CHAIN, job.threads);
  const forwardMs: number[] = [],
    chainMs: number[] = [];
  await chain.run();
  for (let i = 0; i < job.runs; i++) {
    forwardMs.push((await timeRuns(() => dit.forwardOne(item), 1, 0))[0]!);
    chainMs.push((await timeRuns(chain.run, 1, 0))[0]!);
  }
  await chain.release();
  await dit.release();
  const [h, wd] = job.w.latent;
  const imageTokens = (h / dit.config.patchSize) * (wd / dit.config.patchSize);
  const flops = ditForwardFlops(dit.config, job.w.textTokens, imageTokens);
  const gflop = (flops.matmul + flops.attention) / 1e9;
  const ms = median(forwardMs),
    matmulRate = chain.flops / 1e6 / median(chainMs);
  return [
    {
      config: job.w.label,
      tokens: `${job.w.textTokens}+${imageTokens}`,
      'build ms': buildMs,
      'session ms': sessionMs,
      'forward ms': ms,
      'peak RSS MiB': peakMiB,
      GFLOP: gflop,
      'attn GFLOP': flops.attention / 1e9,
      'GFLOP/s': (gflop * 1e3) / ms,
      'MatMul GFLOP/s': matmulRate,
      'of MatMul': `${((100 * gflop * 1e3) / ms / matmulRate).toFixed(0)} %`,
      'bound ms': (gflop * 1e3) / matmulRate,
      'actual/bound': `${((ms * matmulRate) / (gflop * 1e3)).toFixed(2)}×`,
    },
  ];
}

async function accelJob(job: Extract<Job, { kind: 'accel' }>): Promise<Row[]> {
  // Two models, so exact and accelerated calls can alternate step by step and see the same load.
  const exact = await DitModel.load(job.w.dir, { session: sessionOptions(job.threads) });
  const fast = await DitModel.load(job.w.dir, { session: sessionOptions(job.threads) });
  await exact.prepare('exact');
  await fast.prepare('accelerated');
  const cache = new DitStepCache(job.accel, job.steps);
  let exactMs = 0,
    fastMs = 0,
    worst = 0,
    scale = 0;
  for (let i = 0; i < job.steps; i++) {
    const item = await itemFor(exact, job.w, i / job.steps);
    let t = performance.now();
    const want = await exact.forwardOne(item);
    exactMs += performance.now() - t;
    t = performance.now();
    const got = await fast.forwardOne(item, { cache, step: i });
    fastMs += performance.now() - t;
    got.forEach((x, k) => {
      worst = Math.max(worst, Math.abs(x - want[k]!));
      scale = Math.max(scale, Math.abs(want[k]!));
    });
  }
  await Promise.all([exact.release(), fast.release()]);
  return [
    {
      config: job.w.label,
      accel: job.accel.kind === 'teacache' ? `teacache ${job.accel.threshold ?? 'default'}` : job.accel.kind,
      steps: job.steps,
      'layers ran': cache.stats.computed,
      'exact ms': exactMs,
      'accel ms': fastMs,
      speed: `${(exactMs / fastMs).toFixed(2)}×`,
      'max |Δv|': worst.toPrecision(3),
      'max |v|': scale.toPrecision(3),
    },
  ];
}

/** onnxruntime's own profile of dit_main: kernel time per op type, per call. */
async function profileJob(job: Extract<Job, { kind: 'profile' }>): Promise<Row[]> {
  const dit = await DitModel.load(job.w.dir);
  const cfg: DitConfig = dit.config;
  await dit.release();
  const root = resolve(job.w.dir);
  const model = DIT_GRAPHS.dit_main(cfg, Checkpoint.open(join(root, 'transformer'), 'diffusion_pytorch_model'), {
    root,
  });
  const prefix = join(mkdtempSync(join(tmpdir(), 'atelier-dit-profile-')), 'dit_main');
  const session = await ort.InferenceSession.create(model.bytes, {
    enableProfiling: true,
    profileFilePrefix: prefix,
    ...(job.threads === undefined ? {} : { intraOpNumThreads: job.threads }),
    extra: { session: { model_external_initializers_file_folder_path: root } },
  });
  const [h, wd] = job.w.latent;
  const N = (h / cfg.patchSize) * (wd / cfg.patchSize),
    T = job.w.textTokens,
    S = T + N,
    D = cfg.hiddenSize;
  const feeds = {
    text_tokens: f32(random(T * D, 1), [T, D]),
    ref_tokens: f32(new Float32Array(0), [0, D]),
    noise_patches: f32(random(N * cfg.patchDim, 2), [N, cfg.patchDim]),
    temb: f32(random(cfg.tembDim, 3), [1, cfg.tembDim]),
    rope_cos: f32(random(S * cfg.ropePairs, 4), [S, cfg.ropePairs]),
    rope_sin: f32(random(S * cfg.ropePairs, 5), [S, cfg.ropePairs]),
  };
  const calls = 3;
  for (let i = 0; i < calls; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const dir = resolve(prefix, '..');
  const file = join(
    dir,
    readdirSync(dir).find((f) => f.endsWith('.json'))!,
  );
  const events = JSON.parse(readFileSync(file, 'utf8')) as {
    cat: string;
    name: string;
    dur: number;
    args?: { op_name?: string };
  }[];
  rmSync(dir, { recursive: true, force: true });
  const byOp = new Map<string, number>();
  for (const e of events)
    if (e.cat === 'Node' && e.name.endsWith('_kernel_time'))
      byOp.set(e.args?.op_name ?? '?', (byOp.get(e.args?.op_name ?? '?') ?? 0) + e.dur);
  const runUs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').reduce((a, e) => a + e.dur, 0);
  return [...byOp]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([op, us]) => ({
      op,
      'ms per call': us / 1000 / calls,
      'share of run': `${((100 * us) / runUs).toFixed(1)} %`,
    }));
}

/** Runs `job` in a fresh process (this script again, via the same tsx loader) and returns its table rows. */
function inChild(job: Job): Row[] {
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, process.argv[1]!, 'dit', '--child', JSON.stringify(job)],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`benchmark child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Row[];
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    const job = JSON.parse(args[1]!) as Job;
    const rows =
      job.kind === 'matmul'
        ? await matmulJob(job)
        : job.kind === 'latency'
          ? await latencyJob(job)
          : job.kind === 'accel'
            ? await accelJob(job)
            : await profileJob(job);
    console.log(JSON.stringify(rows));
    return;
  }
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const runs = Number(option('--runs') ?? 5);
  const threads = option('--threads') === undefined ? undefined : Number(option('--threads'));
  const kind = option('--accel');
  if (kind !== undefined && kind !== 'teacache' && kind !== 'taylorseer')
    throw new Error(`--accel must be teacache or taylorseer, got ${kind}`);
  const threshold = option('--threshold') === undefined ? undefined : Number(option('--threshold'));
  const accel: DitAcceleration | undefined =
    kind === 'teacache' ? { kind, threshold } : kind === 'taylorseer' ? { kind } : undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'atelier-bench-dit-'));
  try {
    const only = option('--only');
    const loads: Workload[] = [];
    if (only !== 'mid')
      loads.push({ label: 'tiny golden (D 48, 2 layers)', dir: GOLDEN_DIT, textTokens: 16, latent: [16, 16] });
    if (only !== 'tiny')
      loads.push({
        label: 'synthetic (D 640, 8 layers)',
        dir: writeSyntheticDit(join(tmp, 'mid'), MID_DIT_CONFIG),
        textTokens: 64,
        latent: [64, 64],
      });
    printTable(
      `onnxruntime MatMul throughput (CPU EP, fp32, ${threads ?? 'default'} threads of ${availableParallelism()} CPUs, median of ${runs})`,
      inChild({ kind: 'matmul', runs, threads }),
    );
    printTable(
      `DiT forwardOne (dit_temb + dit_main, no references; median of ${runs} after 1 warm-up; peak RSS after the first forward). MatMul GFLOP/s: the chain ` +
        `${MATMULS[FFN_CHAIN]!.label} timed between the forward calls; bound = FLOPs / that rate`,
      loads.map((w) => inChild({ kind: 'latency', w, runs, threads })[0]!),
    );
    if (accel) {
      const steps = Number(option('--steps') ?? 10);
      printTable(
        `${accel.kind} over a ${steps}-step trajectory x_t = (1 − t)·noise + t·data (one branch; exact and accelerated calls alternate; Δv against the exact call)`,
        loads.map((w) => inChild({ kind: 'accel', w, accel, steps, threads })[0]!),
      );
    }
    if (args.includes('--profile'))
      printTable(
        `onnxruntime profile of one ${loads.at(-1)!.label} dit_main call (kernel time by op type)`,
        inChild({ kind: 'profile', w: loads.at(-1)!, threads }),
      );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
