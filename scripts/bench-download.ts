// Download throughput: Atelier's model downloader with one connection and with N ranged connections, against
// `curl`, all fetching the same 1 GB file from local imitations of the hub (content generated on the fly, nothing
// stored), each server in its own process so that no client shares an event loop with it. The file is served in
// several ways: uncapped (loopback: as fast as the two processes' CPUs go), capped per connection (as content
// delivery networks do; 25 MB/s by default), and over imitated links of a given total speed (125 and 500 MB/s, that
// is 1 and 4 Gbit/s, by default). Atelier's figure includes what curl does not do: sha256 of every byte, fsync
// before the atomic rename, the listing and the registry.
//   npx tsx scripts/bench-download.ts [--size-mb 1000] [--rounds 3] [--connections 8] [--cap-mbps 25]
//                                     [--link-mbps 125,500]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_CONNECTIONS } from '../src-main/services/models/file-download.ts';
import { ModelManager } from '../src-main/services/models/model-manager.ts';
import { FAKE_COMMIT, FakeHub } from '../test/helpers/fake-hub.ts';

const REPO = 'bench/one-gigabyte';
const FILE = 'weights.bin';

/** MB/s (10^6 bytes per second) per round, for one way of serving the file. */
export interface LinkBench {
  link: string;
  curl: number[];
  /** curl, then sha256sum and sync of the file: the same guarantees as Atelier's download, by hand. */
  curlChecked: number[];
  atelierOne: number[];
  atelierMany: number[];
}

export interface DownloadBench {
  bytes: number;
  connections: number;
  links: LinkBench[];
}

/** Runs `rounds` rounds; in each, every client downloads once from each server, in turn. */
export async function benchDownload(o: {
  sizeBytes: number;
  rounds: number;
  connections: number;
  capBytesPerSec: number;
  linkBytesPerSec: number[];
}): Promise<DownloadBench> {
  const servers = [
    { link: 'uncapped', server: await startServer(o.sizeBytes, {}) },
    {
      link: `capped at ${(o.capBytesPerSec / 1e6).toFixed(0)} MB/s per connection`,
      server: await startServer(o.sizeBytes, { cap: o.capBytesPerSec }),
    },
  ];
  for (const rate of o.linkBytesPerSec)
    servers.push({
      link: `link of ${(rate / 1e6).toFixed(0)} MB/s (${((rate * 8) / 1e9).toFixed(1)} Gbit/s)`,
      server: await startServer(o.sizeBytes, { link: rate }),
    });
  const work = await mkdtemp(join(tmpdir(), 'atelier-bench-dl-'));
  const links: LinkBench[] = servers.map(({ link }) => ({
    link,
    curl: [],
    curlChecked: [],
    atelierOne: [],
    atelierMany: [],
  }));
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const [i, { server }] of servers.entries()) {
        const figures = links[i]!;
        const curlTarget = join(work, 'curl.bin');
        let t0 = performance.now();
        execFileSync('curl', ['-sSfL', '-o', curlTarget, `${server.url}/${REPO}/resolve/${FAKE_COMMIT}/${FILE}`]);
        figures.curl.push(mbps((await stat(curlTarget)).size, performance.now() - t0));
        // What a careful user does by hand to get the same guarantees: checksum and flush to disk.
        execFileSync('sha256sum', [curlTarget], { stdio: 'ignore' });
        execFileSync('sync', [curlTarget]);
        figures.curlChecked.push(mbps((await stat(curlTarget)).size, performance.now() - t0));
        await rm(curlTarget);

        for (const [connections, into] of [
          [1, figures.atelierOne],
          [o.connections, figures.atelierMany],
        ] as const) {
          const modelsDir = join(work, 'models');
          t0 = performance.now();
          const manager = new ModelManager({
            modelsDir,
            hub: () => ({ endpoint: server.url }),
            connections: () => connections,
          });
          const model = await manager.download(REPO).done;
          into.push(mbps(model.totalBytes, performance.now() - t0));
          await rm(modelsDir, { recursive: true });
        }
      }
    }
  } finally {
    for (const { server } of servers) server.stop();
    await rm(work, { recursive: true, force: true });
  }
  return { bytes: o.sizeBytes, connections: o.connections, links };
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A fake hub in a child process (this same file with --serve); resolves with its URL. */
function startServer(
  sizeBytes: number,
  limits: { cap?: number; link?: number },
): Promise<{ url: string; stop(): void }> {
  const args = [
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
    '--serve',
    String(sizeBytes),
    ...(limits.cap ? ['--cap', String(limits.cap)] : []),
    ...(limits.link ? ['--link', String(limits.link)] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    child.stdout.once('data', (d: Buffer) => resolve({ url: d.toString().trim(), stop: () => child.kill() }));
  });
}

async function serve(sizeBytes: number, limits: { cap: number | null; link: number | null }): Promise<void> {
  const hub = await FakeHub.start({ [REPO]: [{ path: FILE, lfs: true, generatedSize: sizeBytes }] });
  hub.chunkBytes = 1 << 20;
  hub.capBytesPerSec = limits.cap;
  hub.linkBytesPerSec = limits.link;
  process.stdout.write(`${hub.url}\n`);
}

/** `npm run bench -- download [--size-mb N] [--rounds N] [--connections N] [--cap-mbps N] [--link-mbps N,N]` (scripts/bench/download.ts) lands here. */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      'size-mb': { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      'cap-mbps': { type: 'string' },
      'link-mbps': { type: 'string' },
    },
  });
  const result = await benchDownload({
    sizeBytes: Number(values['size-mb'] ?? 1000) * 1e6,
    rounds: Number(values.rounds ?? 3),
    connections: Number(values.connections ?? DEFAULT_CONNECTIONS),
    capBytesPerSec: Number(values['cap-mbps'] ?? 25) * 1e6,
    linkBytesPerSec: (values['link-mbps'] ?? '125,500')
      .split(',')
      .filter(Boolean)
      .map((v) => Number(v) * 1e6),
  });
  const n = result.connections;
  console.log(
    `download of ${(result.bytes / 1e9).toFixed(2)} GB from a local fake hub: MB/s, median of ${result.links[0]!.curl.length} rounds (every round in brackets)`,
  );
  console.log('Atelier includes sha256 of every byte and fsync; "curl+check" is curl, then sha256sum and sync.');
  const cell = (xs: number[]) => `${median(xs).toFixed(0)} [${xs.map((x) => x.toFixed(0)).join(' ')}]`.padEnd(24);
  console.log(
    `${'link'.padEnd(36)}${'curl'.padEnd(24)}${'curl+check'.padEnd(24)}${'atelier x1'.padEnd(24)}${`atelier x${n}`.padEnd(24)}atelier x${n} / curl`,
  );
  for (const l of result.links) {
    console.log(
      `${l.link.padEnd(36)}${cell(l.curl)}${cell(l.curlChecked)}${cell(l.atelierOne)}${cell(l.atelierMany)}${(median(l.atelierMany) / median(l.curl)).toFixed(2)}`,
    );
  }
  const [uncapped, capped, ...links] = result.links;
  const ratio = (l: LinkBench) => (median(l.atelierMany) / median(l.curl)).toFixed(2);
  console.log(
    `atelier x${n} / curl uncapped: ${ratio(uncapped!)} (goal 0.9); capped: ${ratio(capped!)} (goal 3)${links.map((l) => `; ${l.link}: ${ratio(l)}`).join('')}`,
  );
}

// Run directly, this file is also the fake hub's child process (--serve).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    strict: false,
    options: { serve: { type: 'string' }, cap: { type: 'string' }, link: { type: 'string' } },
  });
  const limit = (v: unknown) => (typeof v === 'string' ? Number(v) : null);
  if (typeof values.serve === 'string')
    await serve(Number(values.serve), { cap: limit(values.cap), link: limit(values.link) });
  else await run(process.argv.slice(2));
}
