// `npm run bench -- vae [--runs N] [--webgpu] [--tiling-only]`: AutoencoderKL graph build, session creation, encode/decode latency and
// peak RSS for the tiny golden config and a mid-size synthetic one, the peak RSS of a 1024² decode per mid-block
// attention variant (§9.3.7), then one synthetic decode untiled vs tiled (models/vae/tiling.ts) on the CPU EP (and,
// with --webgpu, on the WebGPU EP: on lavapipe its buffers are host memory, so peak RSS stands for GPU memory).
// Every measurement runs in its own child process, so each maxRSS is its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_VAE_TILES,
  VaeModel,
  type VaeAttentionOptions,
  type VaeTensor,
  type VaeTileOptions,
} from '../../src-main/engine/models/vae.ts';
import { executionProvidersFor } from '../../src-main/engine/onnx/providers.ts';
import { uniformStream, vaeConfigJson, writeSyntheticVae } from '../../test/unit/engine/models/vae-fixtures.ts';
import { median, peakRssMiB, printTable, timeRuns } from './_report.ts';
import { goldenDir } from '../../test/helpers/golden.ts';

const GOLDEN_VAE = join(goldenDir(), 'vae');
const SIZES = [256, 512];
const ATTENTION_VARIANTS: VaeAttentionOptions[] = [
  { kernel: 'explicit', queryChunks: 1 },
  { kernel: 'explicit', queryChunks: 4 },
  { kernel: 'explicit', queryChunks: 16 },
  { kernel: 'fused', queryChunks: 1 },
  { kernel: 'fused', queryChunks: 4 },
];

type Job =
  | { kind: 'latency'; label: string; dir: string; runs: number }
  | { kind: 'attention'; dir: string; attention: VaeAttentionOptions; size: number }
  | {
      kind: 'tiling';
      label: string;
      dir: string;
      size: number;
      tiles: VaeTileOptions | null;
      provider: 'cpu' | 'webgpu';
    };

/** The tiled-decode rows: a [64,128,256,256] synthetic at 512², 3×3 tiles of 32 latent pixels (256 px), ≥ 8 blended. */
const TILING_SIZE = 512;
const TILING_TILES: VaeTileOptions = { tile: 32, overlap: 8 };

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
  const f = vae.config.downscaleFactor,
    L = vae.config.latentChannels;
  const out: Record<string, string | number>[] = [];
  for (const size of SIZES) {
    const image = random([1, vae.config.inChannels, size, size], size);
    const latent = random([1, L, size / f, size / f], size + 1);
    const encodeMs = median(await timeRuns(() => vae.encode(image), job.runs));
    const decodeMs = median(await timeRuns(() => vae.decode(latent), job.runs));
    out.push({
      config: job.label,
      size: `${size}²`,
      'build ms': buildMs,
      'session ms': sessionMs,
      'encode ms': encodeMs,
      'decode ms': decodeMs,
      'peak RSS MiB': peakRssMiB(),
    });
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
  return [
    {
      attention: `${job.attention.kernel} ×${job.attention.queryChunks}`,
      tokens,
      'decode ms': decodeMs,
      'RSS before MiB': beforeMiB,
      'peak RSS MiB': peakRssMiB(),
    },
  ];
}

async function tilingJob(job: Extract<Job, { kind: 'tiling' }>): Promise<Record<string, string | number>[]> {
  const vae = await VaeModel.load(job.dir, job.dir, {
    session: { executionProviders: executionProvidersFor(job.provider) },
  });
  await vae.prepare();
  const f = vae.config.downscaleFactor;
  const beforeMiB = peakRssMiB();
  const t = performance.now();
  await vae.decode(random([1, vae.config.latentChannels, job.size / f, job.size / f], 3), job.tiles ?? undefined);
  const decodeMs = performance.now() - t;
  await vae.release();
  const tiles = job.tiles ? `${job.tiles.tile} latent px, ≥ ${job.tiles.overlap} blended` : 'untiled';
  return [
    {
      config: job.label,
      EP: job.provider,
      size: `${job.size}²`,
      tiles,
      'decode ms': decodeMs,
      'RSS before MiB': beforeMiB,
      'peak RSS MiB': peakRssMiB(),
    },
  ];
}

/** Runs `job` in a fresh process (this script again, via the same tsx loader) and returns its table rows. */
function inChild(job: Job): Record<string, string | number>[] {
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, process.argv[1]!, 'vae', '--child', JSON.stringify(job)],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`benchmark child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, string | number>[];
}

function printTilingTable(mid: string, args: string[]): void {
  const rows = (label: string, dir: string, size: number, tiles: VaeTileOptions, provider: 'cpu' | 'webgpu') =>
    [null, tiles].flatMap((t) => inChild({ kind: 'tiling', label, dir, size, tiles: t, provider }));
  printTable(
    `Tiled decode, CPU EP: synthetic [64,128,256,256] at ${TILING_SIZE}², untiled vs ${TILING_TILES.tile}-latent tiles (default attention)`,
    rows('synthetic [64,128,256,256]', mid, TILING_SIZE, TILING_TILES, 'cpu'),
  );
  // lavapipe runs a few GFLOP/s: the WebGPU rows use the tiny golden VAE at 1024² (16 384 mid-block tokens) and the default tiles
  const providers = args.includes('--webgpu') ? (['cpu', 'webgpu'] as const) : (['cpu'] as const);
  printTable(
    'Tiled decode: tiny golden [8,8,16,16] at 1024², untiled vs the default tiles (default attention per EP)',
    providers.flatMap((provider) => rows('tiny golden [8,8,16,16]', GOLDEN_VAE, 1024, DEFAULT_VAE_TILES, provider)),
  );
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    const job = JSON.parse(args[1]!) as Job;
    console.log(
      JSON.stringify(
        job.kind === 'latency'
          ? await latencyJob(job)
          : job.kind === 'attention'
            ? await attentionJob(job)
            : await tilingJob(job),
      ),
    );
    return;
  }
  if (args.includes('--tiling-only')) {
    const tmpOnly = mkdtempSync(join(tmpdir(), 'atelier-bench-vae-'));
    try {
      const dir = writeSyntheticVae(join(tmpOnly, 'mid'), vaeConfigJson([64, 128, 256, 256], 32));
      printTilingTable(dir, args);
    } finally {
      rmSync(tmpOnly, { recursive: true, force: true });
    }
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
    printTable(
      'Mid-block attention: one 1024² decode, tiny golden config (16 384 tokens, C = 16)',
      ATTENTION_VARIANTS.flatMap((attention) => inChild({ kind: 'attention', dir: GOLDEN_VAE, attention, size: 1024 })),
    );
    printTilingTable(mid, args);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
