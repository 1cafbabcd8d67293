import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { downloadFile, type DownloadNotice, type FileDownloadOptions } from '../../../../src-main/services/models/file-download.ts';
import { fsSink, type FileSink } from '../../../../src-main/services/models/file-sink.ts';
import { HubClient } from '../../../../src-main/services/models/hub-client.ts';
import { FAKE_COMMIT, FakeHub } from '../../../helpers/fake-hub.ts';

const REPO = 'test-org/tiny';
const BIG = randomBytes(3 * 1024 * 1024 + 123); // LFS weights, odd size
const SMALL = Buffer.from('{"_class_name": "OmniGen2Pipeline"}\n'); // kept in git: checked by git blob id

let hub: FakeHub;
let dir: string;
let notices: DownloadNotice[];

beforeEach(async () => {
  hub = await FakeHub.start({ [REPO]: [{ path: 'transformer/weights.safetensors', lfs: true, content: BIG }, { path: 'model_index.json', lfs: false, content: SMALL }] });
  dir = await mkdtemp(join(tmpdir(), 'atelier-dl-'));
  notices = [];
});
afterEach(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

function options(path: string, extra: Partial<FileDownloadOptions> = {}): FileDownloadOptions {
  const client = new HubClient({ endpoint: hub.url });
  const { size, sha256, gitOid } = hub.file(REPO, path);
  const lfs = path.endsWith('.safetensors');
  return {
    url: client.fileUrl(REPO, FAKE_COMMIT, path), dest: join(dir, path.replaceAll('/', '_')), signal: new AbortController().signal,
    expected: lfs ? { path, size, sha256 } : { path, size, gitOid }, stallMs: 300,
    retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 }, onNotice: (n) => notices.push(n), ...extra,
  };
}

const W = 'transformer/weights.safetensors';
// Buffer.equals, not toEqual: vitest's deep equality walks megabytes byte by byte (tens of seconds).
const expectBytes = (got: Buffer, want: Buffer) => expect(got.equals(want), `${got.length} bytes vs ${want.length} expected`).toBe(true);
const bodyRequests = (path: string) => hub.requestsFor(path).filter((r) => r.kind === 'cdn' || (r.kind === 'resolve' && r.status !== 302));

describe('downloadFile against the fake hub', () => {
  test('follows the resolve redirect to the CDN and verifies sha256 before the file appears', async () => {
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    expect(await readdir(dir)).toEqual(['transformer_weights.safetensors']); // no .part left behind
    expect(hub.requestsFor(W).map((r) => [r.kind, r.status])).toEqual([['resolve', 302], ['cdn', 200]]);
  });

  test('a small git-stored file is checked against its git blob id', async () => {
    const o = options('model_index.json');
    await downloadFile(o);
    expectBytes(await readFile(o.dest), SMALL);
  });

  test('a connection dropped mid-file resumes with a Range request from the bytes on disk', async () => {
    hub.fault(W, { kind: 'drop', afterBytes: 1_000_000 });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    const [first, second] = bodyRequests(W);
    expect(first!.range).toBeNull();
    expect(second!.status).toBe(206);
    expect(Number(/bytes=(\d+)-/.exec(second!.range!)![1])).toBeGreaterThanOrEqual(512 * 1024); // flushed bytes kept
    expect(notices.some((n) => n.kind === 'retry')).toBe(true);
  });

  test('503 answers are retried with backoff, then the download succeeds', async () => {
    hub.fault(W, { kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    expect(bodyRequests(W).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  test('a stalled stream trips the watchdog and the retry resumes where it stopped', async () => {
    hub.fault(W, { kind: 'stall', afterBytes: 700_000 });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    expect(notices.find((n) => n.kind === 'retry')?.reason).toMatch(/no data for 0\.3 s/);
    expect(bodyRequests(W)[1]!.range).toMatch(/^bytes=\d+-$/);
  });

  test('wrong bytes fail verification, are never moved into place, and the file is fetched again', async () => {
    hub.fault(W, { kind: 'corrupt' });
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    expect(bodyRequests(W).map((r) => [r.range, r.status])).toEqual([[null, 200], [null, 200]]);
    expect(notices.map((n) => n.kind)).toEqual(['checksum-failed']);
  });

  test('bytes that stay wrong end in checksum-mismatch with neither the file nor a .part left', async () => {
    hub.fault(W, { kind: 'corrupt' }, { kind: 'corrupt' }, { kind: 'corrupt' });
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
    expect(bodyRequests(W).map((r) => [r.range, r.status])).toEqual([['bytes=1000000-', 200]]);
    expect(notices.map((n) => n.kind)).toEqual(['restart']);
  });

  test('a stale .part whose bytes are wrong is caught by the checksum and replaced', async () => {
    await writeFile(`${options(W).dest}.part`, randomBytes(500_000));
    const o = options(W);
    await downloadFile(o);
    expectBytes(await readFile(o.dest), BIG);
    expect(bodyRequests(W).map((r) => r.range)).toEqual(['bytes=500000-', null]);
  });

  test('a full disk (simulated: an injected sink throws ENOSPC after 1 MB) fails as disk-full, not as a retry loop', async () => {
    let written = 0;
    const fullDisk: FileSink = {
      async open(path, mode) {
        const real = await fsSink.open(path, mode);
        return {
          async write(chunks) {
            written += chunks.reduce((n, c) => n + c.byteLength, 0);
            if (written > 1_000_000) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            await real.write(chunks);
          },
          close: () => real.close(),
        };
      },
    };
    const o = options(W, { sink: fullDisk });
    await expect(downloadFile(o)).rejects.toMatchObject({ code: 'disk-full' });
    expect(bodyRequests(W)).toHaveLength(1);
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
