// `npm run bench -- vae [--runs N]`: AutoencoderKL graph build, session creation, encode/decode latency and peak
// RSS for the tiny golden config and a mid-size synthetic one, then the peak RSS of a 1024² decode per
// mid-block attention variant (§9.3.7). Every measurement runs in its own child process, so each maxRSS is its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VaeModel, type VaeAttentionOptions, type VaeTensor } from '../../src-main/engine/models/vae.ts';
import { uniformStream, vaeConfigJson, writeSyntheticVae } from '../../test/unit/engine/models/vae-fixtures.ts';
import { median, peakRssMiB, printTable, timeRuns } from './_report.ts';
import { goldenDir } from '../../test/helpers/golden.ts';

const GOLDEN_VAE = join(goldenDir(), 'vae');
const SIZES = [256, 512];
const ATTENTION_VARIANTS: VaeAttentionOptions[] = [
  { kernel: 'explicit', queryChunks: 1 }, { kernel: 'explicit', queryChunks: 4 }, { kernel: 'explicit', queryChunks: 16 },
  { kernel: 'fused', queryChunks: 1 }, { kernel: 'fused', queryChunks: 4 },
];

type Job =
  | { kind: 'latency'; label: string; dir: string; runs: number }
  | { kind: 'attention'; dir: string; attention: VaeAttentionOptions; size: number };

function random(dims: number[], seed: number): VaeTensor {
  const next = uniformStream(seed);
  return { data: Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, () => 2 * next() - 1), dims };
}

async function latencyJob(job: Extract<Job, { kind: 'latency' }>): Promise<Record<string, string | number>[]> {
  let t = performance.now();
  const vae = await VaeModel.load(job.dir);
  const buildMs = performance.now() - t;
  t = performance.now();
  await vae.prepare();
  const sessionMs = performance.now() - t;
  const f = vae.config.downscaleFactor, L = vae.config.latentChannels;
  const out: Record<string, string | number>[] = [];
  for (const size of SIZES) {
    const image = random([1, vae.config.inChannels, size, size], size);
    const latent = random([1, L, size / f, size / f], size + 1);
    const encodeMs = median(await timeRuns(() => vae.encode(image), job.runs));
    const decodeMs = median(await timeRuns(() => vae.decode(latent), job.runs));
    out.push({ config: job.label, size: `${size}²`, 'build ms': buildMs, 'session ms': sessionMs, 'encode ms': encodeMs, 'decode ms': decodeMs, 'peak RSS MiB': peakRssMiB() });
  }
  await vae.release();
  return out;
}

async function attentionJob(job: Extract<Job, { kind: 'attention' }>): Promise<Record<string, string | number>[]> {
  const vae = await VaeModel.load(job.dir, job.dir, { attention: job.attention });
  await vae.prepare();
  const f = vae.config.downscaleFactor;
  const beforeMiB = peakRssMiB();
  const t = performance.now();
  await vae.decode(random([1, vae.config.latentChannels, job.size / f, job.size / f], 3));
  const decodeMs = performance.now() - t;
  await vae.release();
  const tokens = (job.size / f) ** 2;
  return [{ attention: `${job.attention.kernel} ×${job.attention.queryChunks}`, tokens, 'decode ms': decodeMs, 'RSS before MiB': beforeMiB, 'peak RSS MiB': peakRssMiB() }];
}

/** Runs `job` in a fresh process (this script again, via the same tsx loader) and returns its table rows. */
function inChild(job: Job): Record<string, string | number>[] {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, 'vae', '--child', JSON.stringify(job)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`benchmark child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, string | number>[];
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    const job = JSON.parse(args[1]!) as Job;
    console.log(JSON.stringify(job.kind === 'latency' ? await latencyJob(job) : await attentionJob(job)));
    return;
  }
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
  const tmp = mkdtempSync(join(tmpdir(), 'atelier-bench-vae-'));
  try {
    const mid = writeSyntheticVae(join(tmp, 'mid'), vaeConfigJson([64, 128, 256, 256], 32));
    printTable(`VAE latency (CPU EP, fp32, median of ${runs} after 1 warm-up; default attention)`, [
      ...inChild({ kind: 'latency', label: 'tiny golden [8,8,16,16]', dir: GOLDEN_VAE, runs }),
      ...inChild({ kind: 'latency', label: 'synthetic [64,128,256,256]', dir: mid, runs }),
    ]);
    printTable('Mid-block attention: one 1024² decode, tiny golden config (16 384 tokens, C = 16)',
      ATTENTION_VARIANTS.flatMap((attention) => inChild({ kind: 'attention', dir: GOLDEN_VAE, attention, size: 1024 })));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
