import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  downloadFile,
  type DownloadNotice,
  type FileDownloadOptions,
} from '../../../../src-main/services/models/file-download.ts';
import { fsSink, type FileSink } from '../../../../src-main/services/models/file-sink.ts';
import { HubClient } from '../../../../src-main/services/models/hub-client.ts';
import { FAKE_COMMIT, FakeHub } from '../../../helpers/fake-hub.ts';
import { waitFor } from '../../../helpers/wait-for.ts';

const REPO = 'test-org/tiny';
const BIG = randomBytes(3 * 1024 * 1024 + 123); // LFS weights, odd size
const SMALL = Buffer.from('{"_class_name": "OmniGen2Pipeline"}\n'); // kept in git: checked by git blob id

let hub: FakeHub;
let dir: string;
let notices: DownloadNotice[];

beforeEach(async () => {
  hub = await FakeHub.start({
    [REPO]: [
      { path: 'transformer/weights.safetensors', lfs: true, content: BIG },
      { path: 'model_index.json', lfs: false, content: SMALL },
    ],
  });
  dir = await mkdtemp(join(tmpdir(), 'atelier-dl-'));
  notices = [];
});
afterEach(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

// One connection, and four ranged connections over pieces of at least 512 KiB (the 3 MB file takes four).
const MODES = [
  { mode: 'one connection', parallel: false, transfer: { connections: 1 } },
  { mode: 'four connections', parallel: true, transfer: { connections: 4, pieceBytes: 512 * 1024 } },
] as const;
let transfer: Partial<FileDownloadOptions> = {};

function options(path: string, extra: Partial<FileDownloadOptions> = {}): FileDownloadOptions {
  const client = new HubClient({ endpoint: hub.url });
  const { size, sha256, gitOid } = hub.file(REPO, path);
  const lfs = path.endsWith('.safetensors');
  return {
    url: client.fileUrl(REPO, FAKE_COMMIT, path),
    dest: join(dir, path.replaceAll('/', '_')),
    signal: new AbortController().signal,
    expected: lfs ? { path, size, sha256 } : { path, size, gitOid },
    stallMs: 300,
    retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
    onNotice: (n) => notices.push(n),
    ...transfer,
    ...extra,
  };
}

const W = 'transformer/weights.safetensors';
// Buffer.equals, not toEqual: vitest's deep equality walks megabytes byte by byte (tens of seconds).
const expectBytes = (got: Buffer, want: Buffer) =>
  expect(got.equals(want), `${got.length} bytes vs ${want.length} expected`).toBe(true);
const bodyRequests = (path: string) =>
  hub.requestsFor(path).filter((r) => r.kind === 'cdn' || (r.kind === 'resolve' && r.status !== 302));
/** First byte a request asked for (0 without a Range header). */
const rangeStart = (range: string | null) => (range === null ? 0 : Number(/^bytes=(\d+)-/.exec(range)![1]));

describe.each(MODES)('downloadFile against the fake hub, $mode', ({ parallel, transfer: t }) => {
  beforeEach(() => {
    transfer = t;
  });

  test('follows the resolve redirect to the CDN and verifies sha256 before the file appears', async () => {
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    expect(await readdir(dir)).toEqual(['transformer_weights.safetensors']); // no .part or journal left behind
    const requests = hub.requestsFor(W);
    if (!parallel)
      expect(requests.map((r) => [r.kind, r.status])).toEqual([
        ['resolve', 302],
        ['cdn', 200],
      ]);
    else {
      const body = bodyRequests(W);
      expect(body).toHaveLength(4);
      expect(body.every((r) => r.kind === 'cdn' && r.status === 206)).toBe(true);
      expect(body.map((r) => rangeStart(r.range)).sort((a, b) => a - b)[0]).toBe(0);
      expect(hub.bytesSent.get(W)).toBe(BIG.length); // every byte fetched exactly once
    }
  });

  test('a small git-stored file is checked against its git blob id, over one connection', async () => {
    const o = options('model_index.json');
    await downloadFile(o);
    expectBytes(await readFile(o.dest), SMALL);
    expect(bodyRequests('model_index.json')).toHaveLength(1);
  });

  test('a connection dropped mid-file resumes with a Range request from the bytes on disk', async () => {
    hub.fault(W, { kind: 'drop', afterBytes: 600_000 });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    const [first, ...rest] = bodyRequests(W);
    expect(rangeStart(first!.range)).toBe(0);
    // The dropped connection's bytes are kept: it resumes inside its own region, not at its start.
    expect(
      rest.some((r) => r.status === 206 && rangeStart(r.range) >= 512 * 1024 && rangeStart(r.range) <= 600_000),
    ).toBe(true);
    expect(notices.some((n) => n.kind === 'retry')).toBe(true);
  });

  test('503 answers are retried with backoff, then the download succeeds', async () => {
    hub.fault(W, { kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    expect(bodyRequests(W).map((r) => r.status)).toEqual(parallel ? [503, 503, 206, 206, 206, 206] : [503, 503, 200]);
  });

  test('a stalled stream trips the watchdog and the retry resumes where it stopped', async () => {
    hub.fault(W, { kind: 'stall', afterBytes: 700_000 });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    expect(notices.find((n) => n.kind === 'retry')?.reason).toMatch(/no data for 0\.3 s/);
    expect(
      bodyRequests(W).some(
        (r) => r.status === 206 && rangeStart(r.range) >= 512 * 1024 && rangeStart(r.range) <= 700_000,
      ),
    ).toBe(true);
  });

  test('wrong bytes fail verification, are never moved into place, and the file is fetched again', async () => {
    hub.fault(W, { kind: 'corrupt' });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    const fromZero = bodyRequests(W).filter((r) => rangeStart(r.range) === 0);
    expect(fromZero.map((r) => r.status)).toEqual(parallel ? [206, 206] : [200, 200]);
    expect(notices.map((n) => n.kind)).toEqual(['checksum-failed']);
  });

  test('bytes that stay wrong end in checksum-mismatch with neither the file, a .part nor a journal left', async () => {
    hub.fault(W, ...Array.from({ length: parallel ? 12 : 3 }, () => ({ kind: 'corrupt' }) as const));
    const o = options(W, { maxChecksumRetries: 2 });
    await expect(downloadFile(o)).rejects.toMatchObject({ code: 'checksum-mismatch' });
    expect(await readdir(dir)).toEqual([]);
  });

  test('a server that ignores Range (200 to a range request) restarts the file cleanly', async () => {
    await writeFile(`${options(W).dest}.part`, BIG.subarray(0, 1_000_000));
    hub.fault(W, { kind: 'ignore-range' });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    const requests = bodyRequests(W);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ status: 200, range: expect.stringMatching(/^bytes=1000000-/) });
    expect(notices.map((n) => n.kind)).toEqual(['restart']);
  });

  test('a stale .part whose bytes are wrong is caught by the checksum and replaced', async () => {
    await writeFile(`${options(W).dest}.part`, randomBytes(500_000));
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    const starts = bodyRequests(W).map((r) => rangeStart(r.range));
    expect(starts[0]).toBe(500_000);
    expect(starts).toContain(0);
    expect(notices.map((n) => n.kind)).toEqual(['checksum-failed']);
  });

  test('a full disk (simulated: an injected sink throws ENOSPC after 1 MB) fails as disk-full, not as a retry loop', async () => {
    let written = 0;
    const fullDisk: FileSink = {
      async open(path) {
        const real = await fsSink.open(path);
        return {
          async write(chunks, position) {
            written += chunks.reduce((n, c) => n + c.byteLength, 0);
            if (written > 1_000_000)
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            await real.write(chunks, position);
          },
          close: (opts) => real.close(opts),
        };
      },
    };
    const o = options(W, { sink: fullDisk });
    await expect(downloadFile(o)).rejects.toMatchObject({ code: 'disk-full' });
    expect(notices.filter((n) => n.kind === 'retry')).toEqual([]);
    expect(bodyRequests(W).length).toBeLessThanOrEqual(parallel ? 4 : 1);
    await expect(stat(o.dest)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('an abort stops the transfer with cancelled and keeps the .part for a later resume', async () => {
    hub.throttle = { bytes: 64 * 1024, everyMs: 10 };
    const controller = new AbortController();
    const o = options(W, { signal: controller.signal, onProgress: (n) => n > 300_000 && controller.abort() });
    await expect(downloadFile(o)).rejects.toMatchObject({ code: 'cancelled' });
    expect((await stat(`${o.dest}.part`)).size).toBeGreaterThan(0);
  });

  test('gives up after the retry budget when the server keeps failing', async () => {
    hub.fault(W, ...Array.from({ length: 6 }, () => ({ kind: 'status', status: 500 }) as const));
    await expect(downloadFile(options(W))).rejects.toMatchObject({ code: 'network', detail: { status: 500 } });
    expect(bodyRequests(W)).toHaveLength(4);
  });
});

describe('downloadFile with several connections', () => {
  beforeEach(() => {
    transfer = MODES[1].transfer;
  });

  test('a server that refuses Range on a second connection: that connection bows out, the others finish the file', async () => {
    hub.fault(W, { kind: 'none' }, { kind: 'ignore-range' });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    const statuses = bodyRequests(W).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 206).length).toBeGreaterThanOrEqual(4); // its piece went to another connection
    expect(notices.map((n) => n.kind)).toEqual(['fewer-connections']);
  });

  test('a server that refuses Range on every connection but the first: one connection fetches every piece', async () => {
    hub.fault(W, { kind: 'none' }, { kind: 'ignore-range' }, { kind: 'ignore-range' }, { kind: 'ignore-range' });
    // The first connection's piece takes ~0.5 s, the refusals arrive in milliseconds: it is still at work when they do.
    hub.throttle = { bytes: 16 * 1024, everyMs: 10 };
    const o = options(W, { onProgress: (n) => n > 900_000 && (hub.throttle = null) });
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    expect(bodyRequests(W).filter((r) => r.status === 206)).toHaveLength(4);
    expect(notices.map((n) => n.kind)).toEqual(['fewer-connections', 'fewer-connections', 'fewer-connections']);
  });

  test('a connection the CDN serves slowly gives the rest of its piece to connections that came free', async () => {
    // The second response trickles at ~20 KB/s: its 0.75 MB piece alone would take over half a minute.
    hub.fault(W, { kind: 'none' }, { kind: 'slow', bytes: 2048, everyMs: 100 });
    const o = options(W, { stallMs: 5_000 });
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    const [slow, ...others] = bodyRequests(W).slice(1);
    const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(slow!.range!)!.map(Number);
    // The rest of the slow piece was asked for by a request that starts inside it.
    expect(others.some((r) => rangeStart(r.range) > from! && rangeStart(r.range) <= to!)).toBe(true);
    expect(hub.bytesSent.get(W)!).toBeLessThan(BIG.length * 1.1);
  }, 20_000);

  test('SIGKILL with several ranges in flight: the restart resumes every range where its bytes end', async () => {
    const big = await FakeHub.start({
      'test-org/big': [{ path: 'weights.bin', lfs: true, generatedSize: 12 * 1024 * 1024 }],
    });
    try {
      big.throttle = { bytes: 16 * 1024, everyMs: 10 }; // ~1.6 MB/s per connection: each 3 MB range takes seconds
      const { size, sha256 } = big.file('test-org/big', 'weights.bin');
      const o = {
        url: new HubClient({ endpoint: big.url }).fileUrl('test-org/big', FAKE_COMMIT, 'weights.bin'),
        dest: join(dir, 'weights.bin'),
        expected: { path: 'weights.bin', size, sha256 },
        connections: 4,
        pieceBytes: 1024 * 1024,
      };
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'download-then-die.ts'), JSON.stringify(o)],
        { stdio: 'ignore' },
      );
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const journal = async () =>
        (
          JSON.parse(await readFile(`${o.dest}.part.ranges`, 'utf8').catch(() => '{"done":[]}')) as {
            done: [number, number][];
          }
        ).done;
      try {
        await waitFor(async () => (await journal()).length >= 3, 'several ranges in the journal', 20_000);
      } finally {
        child.kill('SIGKILL');
      }
      await exited;
      const left = await journal();
      big.throttle = null;
      big.requests.length = 0;
      await downloadFile({ ...o, signal: new AbortController().signal, stallMs: 2000 });
      expect((await stat(o.dest)).size).toBe(size); // and its sha256 matched, or downloadFile would have thrown
      const asked = big.requests
        .filter((r) => r.kind === 'cdn')
        .map((r) => {
          const [, from, to] = /^bytes=(\d+)-(\d*)$/.exec(r.range!)!;
          return { start: Number(from), length: (to ? Number(to) + 1 : size) - Number(from), status: r.status };
        });
      expect(asked.every((r) => r.status === 206)).toBe(true);
      for (const [, end] of left) if (end < size) expect(asked.map((r) => r.start)).toContain(end);
      // Exactly the bytes the journal did not hold were fetched again: no range started over.
      const kept = left.reduce((n, [a, b]) => n + b - a, 0);
      expect(asked.reduce((n, r) => n + r.length, 0)).toBe(size - kept);
      expect(kept).toBeGreaterThan(0);
    } finally {
      await big.close();
    }
  }, 40_000);

  test('pieces after the first go straight to the CDN link; an expired link is swapped for a fresh one from the hub', async () => {
    hub.fault(W, { kind: 'none' }, { kind: 'status', status: 403 });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    expect(hub.requestsFor(W).filter((r) => r.kind === 'resolve')).toHaveLength(2); // the first piece's, and the refresh
    expect(
      bodyRequests(W)
        .map((r) => r.status)
        .sort(),
    ).toEqual([206, 206, 206, 206, 403]);
    expect(notices).toEqual([]);
  });

  test('progress counts the bytes on disk of all connections together, never more than the server sent', async () => {
    hub.throttle = { bytes: 32 * 1024, everyMs: 5 };
    const seen: { done: number; sent: number }[] = [];
    const o = options(W, { onProgress: (done) => seen.push({ done, sent: hub.bytesSent.get(W) ?? 0 }) });
    await downloadFile(o);
    const done = seen.map((s) => s.done);
    expect(done).toEqual([...done].sort((a, b) => a - b)); // never backwards without a fault
    expect(seen.every((s) => s.done <= s.sent)).toBe(true);
    expect(done.at(-1)).toBe(BIG.length);
    // Several connections contributed before any one of them finished: the figure is their sum, not one's.
    expect(done.some((d) => d > BIG.length / 4 + 1)).toBe(true);
  });
});
