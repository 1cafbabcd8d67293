// Download throughput: Atelier's model downloader against `curl`, both fetching the same 1 GB file from the same
// local imitation of the hub (content generated on the fly, nothing stored), running in its own process so that
// neither client shares an event loop with the server. Atelier's figure includes what curl does not do: sha256
// of every byte, fsync before the atomic rename, the listing and the registry.
//   npx tsx scripts/bench-download.ts [--size-mb 1000] [--rounds 3]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ModelManager } from '../src-main/services/models/model-manager.ts';
import { FAKE_COMMIT, FakeHub } from '../test/helpers/fake-hub.ts';

const REPO = 'bench/one-gigabyte';
const FILE = 'weights.bin';

export interface DownloadBench {
  bytes: number;
  atelierMBps: number[];
  curlMBps: number[];
  /** curl, then sha256sum and sync of the file: the same guarantees as Atelier's download, by hand. */
  curlCheckedMBps: number[];
  /** median(Atelier) / median(curl) */
  ratio: number;
}

/** Runs `rounds` alternating downloads with each client and returns MB/s (10^6 bytes per second). */
export async function benchDownload(sizeBytes: number, rounds: number): Promise<DownloadBench> {
  const server = await startServer(sizeBytes);
  const work = await mkdtemp(join(tmpdir(), 'atelier-bench-dl-'));
  const atelierMBps: number[] = [];
  const curlMBps: number[] = [];
  const curlCheckedMBps: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const curlTarget = join(work, 'curl.bin');
      let t0 = performance.now();
      execFileSync('curl', ['-sSfL', '-o', curlTarget, `${server.url}/${REPO}/resolve/${FAKE_COMMIT}/${FILE}`]);
      curlMBps.push(mbps((await stat(curlTarget)).size, performance.now() - t0));
      // What a careful user does by hand to get the same guarantees: checksum and flush to disk.
      execFileSync('sha256sum', [curlTarget], { stdio: 'ignore' });
      execFileSync('sync', [curlTarget]);
      curlCheckedMBps.push(mbps((await stat(curlTarget)).size, performance.now() - t0));
      await rm(curlTarget);

      const modelsDir = join(work, 'models');
      t0 = performance.now();
      const model = await new ModelManager({ modelsDir, hub: () => ({ endpoint: server.url }) }).download(REPO).done;
      atelierMBps.push(mbps(model.totalBytes, performance.now() - t0));
      await rm(modelsDir, { recursive: true });
    }
  } finally {
    server.stop();
    await rm(work, { recursive: true, force: true });
  }
  return { bytes: sizeBytes, atelierMBps, curlMBps, curlCheckedMBps, ratio: median(atelierMBps) / median(curlMBps) };
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The fake hub in a child process (this same file with --serve); resolves with its URL. */
function startServer(sizeBytes: number): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', String(sizeBytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    child.stdout.once('data', (d: Buffer) => resolve({ url: d.toString().trim(), stop: () => child.kill() }));
  });
}

async function serve(sizeBytes: number): Promise<void> {
  const hub = await FakeHub.start({ [REPO]: [{ path: FILE, lfs: true, generatedSize: sizeBytes }] });
  hub.chunkBytes = 1 << 20;
  process.stdout.write(`${hub.url}\n`);
}

/** `npm run bench -- download [--size-mb N] [--rounds N]` (scripts/bench/download.ts) lands here. */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'size-mb': { type: 'string' }, rounds: { type: 'string' } } });
  const result = await benchDownload(Number(values['size-mb'] ?? 1000) * 1e6, Number(values.rounds ?? 3));
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(`download of ${(result.bytes / 1e9).toFixed(2)} GB from a local fake hub (MB/s per round)`);
  console.log(`  atelier: ${fmt(result.atelierMBps)}  (median ${median(result.atelierMBps).toFixed(0)} MB/s; includes sha256 + fsync)`);
  console.log(`  curl:    ${fmt(result.curlMBps)}  (median ${median(result.curlMBps).toFixed(0)} MB/s)`);
  console.log(`  curl + sha256sum + sync: ${fmt(result.curlCheckedMBps)}  (median ${median(result.curlCheckedMBps).toFixed(0)} MB/s)`);
  console.log(`  ratio atelier/curl: ${result.ratio.toFixed(2)}`);
}

// Run directly, this file is also the fake hub's child process (--serve).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ strict: false, options: { serve: { type: 'string' } } });
  if (typeof values.serve === 'string') await serve(Number(values.serve));
  else await run(process.argv.slice(2));
}
