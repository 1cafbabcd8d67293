import { lstat, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { DownloadProgress, Events } from '../../../../src-main/ipc/contract.ts';
import { acquireDownloadLock, LOCK_FILE } from '../../../../src-main/services/models/download-lock.ts';
import { ModelManager } from '../../../../src-main/services/models/model-manager.ts';
import { REGISTRY_FILE } from '../../../../src-main/services/models/registry.ts';
import { FakeHub, folderAsRepo, type FakeFile } from '../../../helpers/fake-hub.ts';
import { goldenDir } from '../../../helpers/golden.ts';
import { waitFor } from '../../../helpers/wait-for.ts';

const REPO = 'OmniGen2/OmniGen2';
const FILES: FakeFile[] = folderAsRepo(join(goldenDir(), 'e2e', 'model'));
const TOTAL = FILES.reduce((n, f) => n + f.content!.length, 0);
const WEIGHTS = 'transformer/diffusion_pytorch_model.safetensors';

let hub: FakeHub;
let modelsDir: string;
let progress: DownloadProgress[];
let states: Events['model.state'][];

function manager(free = Number.MAX_SAFE_INTEGER): ModelManager {
  const m = new ModelManager({
    modelsDir,
    hub: () => ({ endpoint: hub.url }),
    // Four ranged connections on the weights (about 1 MB in pieces of 128 KiB or more), as a large file gets them.
    tuning: {
      stallMs: 500,
      retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
      freeSpace: async () => free,
      progressIntervalMs: 0,
      connections: 4,
      pieceBytes: 128 * 1024,
    },
  });
  m.subscribe((e) => (e.event === 'download.progress' ? progress.push(e.payload) : states.push(e.payload)));
  return m;
}

const folder = () => join(modelsDir, 'OmniGen2--OmniGen2');
const bodyRequests = () => hub.requests.filter((r) => r.kind === 'cdn' || (r.kind === 'resolve' && r.status !== 302));

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

beforeEach(async () => {
  hub = await FakeHub.start({ [REPO]: FILES }, { pageSize: 4 });
  modelsDir = await mkdtemp(join(tmpdir(), 'atelier-models-'));
  progress = [];
  states = [];
});
afterEach(async () => {
  await hub.close();
  await rm(modelsDir, { recursive: true, force: true });
});

describe('ModelManager downloads', () => {
  test('downloads the repository into a plain mirror folder, verified, with honest progress and states', async () => {
    const m = manager();
    const model = await m.download(REPO).done;
    expect(model).toMatchObject({
      repo: REPO,
      state: 'ready',
      totalBytes: TOTAL,
      doneBytes: TOTAL,
      fileCount: FILES.length,
      verifiedFiles: FILES.length,
      checksums: 'hub',
    });
    expect(await listTree(folder())).toEqual(FILES.map((f) => f.path).sort());
    for (const f of FILES) {
      expect((await lstat(join(folder(), f.path))).isSymbolicLink()).toBe(false);
      expect((await readFile(join(folder(), f.path))).equals(f.content!), f.path).toBe(true);
    }
    expect(states.map((s) => s.state)).toEqual(expect.arrayContaining(['downloading', 'ready']));
    expect(states.at(-1)).toMatchObject({ state: 'ready', model: { state: 'ready' } });
    const done = progress.map((p) => p.doneBytes);
    expect(done).toEqual([...done].sort((a, b) => a - b)); // never goes backwards without a fault
    expect(progress.at(-1)).toMatchObject({
      doneBytes: TOTAL,
      totalBytes: TOTAL,
      filesDone: FILES.length,
      fileCount: FILES.length,
    });
    const saved = JSON.parse(await readFile(join(modelsDir, REGISTRY_FILE), 'utf8'));
    expect(saved.models[0]).toMatchObject({ repo: REPO, state: 'ready', folder: 'OmniGen2--OmniGen2' });
    expect(new Set(bodyRequests().map((r) => r.file)).size).toBe(FILES.length);
    const requests = bodyRequests().length;
    expect(await m.download(REPO).done).toMatchObject({ state: 'ready' }); // already installed: nothing fetched
    expect(bodyRequests()).toHaveLength(requests);
  });

  test('refuses to start when the disk is too small (simulated: free-space probe reports 1 MB), naming both numbers', async () => {
    const handle = manager(1_000_000).download(REPO);
    const error = await handle.started.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'disk-full', detail: { freeBytes: 1_000_000 } });
    const needed = (error as { detail: { neededBytes: number } }).detail.neededBytes;
    expect(needed).toBeGreaterThan(TOTAL); // download + converted-weight cache
    expect((error as Error).message).toMatch(/needed .* free/);
    expect((error as Error).message).toContain('1.0 MB free');
    expect(bodyRequests()).toHaveLength(0);
    expect(await readdir(modelsDir)).toEqual([]); // nothing written: no folder, no registry
  });

  test('pause keeps partial files; resume continues with Range requests and ends verified', async () => {
    hub.throttle = { bytes: 2 * 1024, everyMs: 5 }; // ~0.4 MB/s per connection, eight at once
    const m = manager();
    const handle = m.download(REPO);
    await handle.started;
    await waitFor(() => progress.some((p) => p.doneBytes > 600_000), '600 kB on disk');
    const paused = await m.pause(REPO);
    await expect(handle.done).rejects.toMatchObject({ code: 'cancelled' });
    expect(paused.state).toBe('paused');
    expect(paused.error).toBeUndefined();
    expect(paused.doneBytes).toBeGreaterThan(0);
    expect((await listTree(folder())).some((p) => p.endsWith('.part'))).toBe(true);
    hub.throttle = null;
    expect(await m.resume(REPO).done).toMatchObject({ state: 'ready' });
    expect(bodyRequests().some((r) => r.range !== null && r.status === 206)).toBe(true);
  });

  test('cancel deletes everything it downloaded; cancel with keepPartial leaves a resumable paused model', async () => {
    hub.throttle = { bytes: 16 * 1024, everyMs: 5 };
    const m = manager();
    let handle = m.download(REPO);
    await handle.started;
    await m.cancel(REPO, { keepPartial: true });
    await expect(handle.done).rejects.toMatchObject({ code: 'cancelled' });
    expect((await m.get(REPO))?.state).toBe('paused');
    handle = m.download(REPO);
    await handle.started;
    await m.cancel(REPO, { keepPartial: false });
    expect(await m.get(REPO)).toBeNull();
    await expect(stat(folder())).rejects.toMatchObject({ code: 'ENOENT' });
    expect(states.at(-1)).toEqual({ repo: REPO, state: 'not-installed', model: null });
  });

  test('a download left by a killed process (paused entry, .part files, stale lock) resumes from the bytes on disk', async () => {
    hub.throttle = { bytes: 2 * 1024, everyMs: 5 };
    const first = manager();
    const handle = first.download(REPO);
    await waitFor(() => progress.some((p) => p.doneBytes > 600_000), 'part of the model on disk');
    await first.pause(REPO).catch(() => undefined);
    await handle.done.catch(() => undefined);
    await writeFile(join(folder(), LOCK_FILE), '999999999'); // the dead process's lock
    hub.throttle = null;
    hub.requests.length = 0;
    expect(await manager().download(REPO).done).toMatchObject({ state: 'ready' });
    const resumed = bodyRequests().filter((r) => r.range !== null);
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed.every((r) => r.status === 206)).toBe(true);
    expect(resumed.some((r) => Number(/bytes=(\d+)-/.exec(r.range!)![1]) > 0)).toBe(true);
    expect(new Set(bodyRequests().map((r) => r.file)).size).toBeLessThan(FILES.length); // finished files are not fetched again
  });

  test('refuses a second download into the same folder while another process holds the lock', async () => {
    await manager().download(REPO).done;
    await rm(join(modelsDir, REGISTRY_FILE));
    const release = await acquireDownloadLock(folder()); // held by a live pid (ours)
    await expect(manager().download(REPO).done).rejects.toMatchObject({ code: 'busy' });
    await release();
  });
});

describe('ModelManager verify, remove and the registry', () => {
  test('verify finds an altered file (damaged); downloading again repairs only that file', async () => {
    const m = manager();
    await m.download(REPO).done;
    const path = join(folder(), WEIGHTS);
    const bytes = await readFile(path);
    bytes[1000]! ^= 1;
    await writeFile(path, bytes);
    const damaged = await m.verify(REPO);
    expect(damaged).toMatchObject({ state: 'damaged', damagedFiles: [WEIGHTS], error: { code: 'model-damaged' } });
    expect(progress.some((p) => p.phase === 'verifying')).toBe(true);
    hub.requests.length = 0;
    expect(await m.download(REPO).done).toMatchObject({ state: 'ready' });
    expect([...new Set(bodyRequests().map((r) => r.file))]).toEqual([WEIGHTS]);
    expect(await m.verify(REPO)).toMatchObject({ state: 'ready' });
  });

  test('remove deletes the folder and the registry entry, and is refused while downloading', async () => {
    hub.throttle = { bytes: 16 * 1024, everyMs: 5 };
    const m = manager();
    const handle = m.download(REPO);
    await handle.started;
    await expect(m.remove(REPO)).rejects.toMatchObject({ code: 'busy' });
    hub.throttle = null;
    await handle.done;
    await m.remove(REPO);
    expect(await m.list()).toEqual([]);
    expect(await readdir(modelsDir)).toEqual([REGISTRY_FILE]);
    await expect(m.remove(REPO)).rejects.toMatchObject({ code: 'not-found' });
  });

  test('a corrupt registry is reported, not overwritten', async () => {
    await writeFile(join(modelsDir, REGISTRY_FILE), '{"formatVersion": 1, "models": [');
    await expect(manager().list()).rejects.toMatchObject({ code: 'corrupt' });
    await expect(manager().download(REPO).done).rejects.toMatchObject({ code: 'corrupt' });
    expect(await readFile(join(modelsDir, REGISTRY_FILE), 'utf8')).toBe('{"formatVersion": 1, "models": [');
  });

  test('an unknown repository fails with not-found before anything is written', async () => {
    await expect(manager().download('nobody/nothing').started).rejects.toMatchObject({ code: 'not-found' });
    expect(await readdir(modelsDir)).toEqual([]);
  });
});
