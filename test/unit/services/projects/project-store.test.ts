import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { toIpcError } from '../../../../src-main/ipc/errors.ts';
import { FORMAT_VERSION } from '../../../../src-main/services/projects/project-format.ts';
import {
  failingWrites,
  flipByte,
  image,
  sampleProject,
  snapshotDir,
  tempDir,
  testApi,
  value,
} from './project-fixtures.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const userData = () => join(dir, 'userData');

/** Saves the sample project at `dir/work/fox.atelier` and returns what the test needs to compare against. */
async function savedSample() {
  const { api, recentPaths } = testApi(userData());
  const { document, images } = sampleProject();
  await mkdir(join(dir, 'work'));
  const saved = await value(api.saveAs({ path: join(dir, 'work', 'fox'), document, images }));
  return { api, document, images, saved, recentPaths, before: await readFile(saved.path) };
}

describe('save and open', () => {
  test('save as → open gives back the same workspace, results, history and reflection tree', async () => {
    const { document, images, saved } = await savedSample();
    expect(saved.path).toBe(join(dir, 'work', 'fox.atelier'));
    const { api } = testApi(userData());
    const opened = await value(api.open(saved.path));
    expect(opened).toMatchObject({ path: saved.path, source: 'file' });
    expect(opened.document).toEqual({ ...document, modifiedAt: saved.modifiedAt, appVersion: '0.1.0-test' });
    const byHash = (list: { hash: string; bytes: Uint8Array }[]) =>
      Object.fromEntries(list.map((i) => [i.hash, Buffer.from(i.bytes).toString('hex')]));
    expect(byHash(opened.images)).toEqual(byHash(images));
  });

  test('save writes to the open file and needs only images main has not seen', async () => {
    const { api, document, saved } = await savedSample();
    const extra = image();
    const next = {
      ...document,
      workspace: {
        ...document.workspace,
        inputs: [...document.workspace.inputs, { hash: extra.hash, label: 'new', crop: null }],
      },
    };
    const again = await value(api.save({ document: next, images: [extra] }));
    expect(again.path).toBe(saved.path);
    const reopened = await value(testApi(userData()).api.open(saved.path));
    expect(reopened.document.workspace.inputs.map((i) => i.label)).toEqual(['the fox', 'snowy forest', 'new']);
  });

  test('a new project has no file: save asks for save as and writes nothing', async () => {
    const { api } = testApi(userData());
    const created = await value(api.create());
    expect(created).toMatchObject({ path: null, source: 'new', images: [] });
    await expect(api.save({ document: created.document, images: [] })).rejects.toMatchObject({
      code: 'invalid-request',
      detail: { reason: 'untitled' },
    });
    expect(await snapshotDir(dir)).toEqual({});
  });

  test('recent projects: most recent first, missing files marked, forget removes', async () => {
    const { api, saved, recentPaths } = await savedSample();
    const { document, images } = sampleProject();
    const other = await value(api.saveAs({ path: join(dir, 'work', 'other.atelier'), document, images }));
    expect(recentPaths()).toEqual([other.path, saved.path]);
    await value(api.saveAs({ path: join(dir, 'work', 'fox.atelier'), document, images }));
    const entries = await value(api.recent());
    expect(entries.map((e) => e.name)).toEqual(['fox', 'other']);
    expect(entries.every((e) => e.exists)).toBe(true);
    expect(await value(api.forgetRecent(other.path))).toEqual([{ path: saved.path, name: 'fox', exists: true }]);
  });

  test('info summarises a saved project', async () => {
    const { api, saved } = await savedSample();
    expect(await value(api.info(saved.path))).toEqual({
      path: saved.path,
      formatVersion: FORMAT_VERSION,
      sizeBytes: saved.sizeBytes,
      createdAt: '2026-11-20T10:00:00.000Z',
      modifiedAt: saved.modifiedAt,
      appVersion: '0.1.0-test',
      prompt: 'Put the fox from image 1 into the forest of image 2 — in winter ❄',
      counts: { inputs: 2, results: 2, history: 2, reflections: 1, rounds: 3, images: 4 },
    });
  });
});

describe('bad input changes nothing on disk', () => {
  async function expectOpenFails(bytes: Uint8Array, expected: object) {
    const { api } = testApi(userData());
    const path = join(dir, 'bad.atelier');
    await writeFile(path, bytes);
    const before = await snapshotDir(dir);
    const error = await api.open(path).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject(expected);
    expect(await snapshotDir(dir)).toEqual(before);
    return error;
  }

  test('truncated → corrupt-file/truncated', async () => {
    const { before } = await savedSample();
    const e = await expectOpenFails(before.subarray(0, before.length - 100), {
      code: 'corrupt-file',
      detail: { reason: 'truncated' },
    });
    expect(toIpcError(e)).toMatchObject({
      code: 'corrupt-file',
      detail: { reason: 'truncated', path: join(dir, 'bad.atelier') },
    });
  });

  test('corrupt → corrupt-file/checksum-mismatch', async () => {
    const { before } = await savedSample();
    await expectOpenFails(flipByte(before, -5), { code: 'corrupt-file', detail: { reason: 'checksum-mismatch' } });
  });

  test('from a newer version → from-future', async () => {
    const { before } = await savedSample();
    const future = Buffer.from(before);
    future.writeUInt32LE(FORMAT_VERSION + 1, 12);
    const e = await expectOpenFails(future, { code: 'from-future', detail: { reason: 'newer-format' } });
    expect(toIpcError(e).code).toBe('from-future');
  });

  test('no file → not-found', async () => {
    const { api } = testApi(userData());
    await expect(api.open(join(dir, 'nope.atelier'))).rejects.toMatchObject({
      code: 'not-found',
      detail: { reason: 'no-file' },
    });
  });

  test('save of a document whose image was never sent → missing-image, nothing written', async () => {
    const { api } = testApi(userData());
    const { document, images } = sampleProject();
    const before = await snapshotDir(dir);
    await expect(api.saveAs({ path: join(dir, 'p.atelier'), document, images: images.slice(1) })).rejects.toMatchObject(
      { code: 'invalid-request', detail: { reason: 'missing-image', image: images[0]!.hash } },
    );
    expect(await snapshotDir(dir)).toEqual(before);
  });

  test('image bytes that do not match their hash → wrong-hash', async () => {
    const { api } = testApi(userData());
    const { document, images } = sampleProject();
    const lying = [{ hash: images[0]!.hash, bytes: images[1]!.bytes }, ...images.slice(1)];
    await expect(api.saveAs({ path: join(dir, 'p.atelier'), document, images: lying })).rejects.toMatchObject({
      detail: { reason: 'wrong-hash' },
    });
    expect(await snapshotDir(dir)).toEqual({});
  });
});

describe('failed saves leave the previous file byte-identical', () => {
  async function saveOverWith(fs: ReturnType<typeof failingWrites>, expected: object) {
    const { document, images, saved, before } = await savedSample();
    const listing = await snapshotDir(dir);
    const { api } = testApi(userData(), { fs });
    await value(api.open(saved.path));
    const changed = { ...document, workspace: { ...document.workspace, prompt: 'changed' } };
    const error = await api.save({ document: changed, images }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject(expected);
    expect(Buffer.compare(await readFile(saved.path), before)).toBe(0);
    expect(await snapshotDir(dir)).toEqual(listing); // the temp file is gone too
    return error;
  }

  test('full disk (ENOSPC injected after 1 KiB of the new file) → disk-full', async () => {
    const e = await saveOverWith(failingWrites('ENOSPC', 1024), { code: 'disk-full', detail: { reason: 'disk-full' } });
    expect(toIpcError(e).code).toBe('disk-full');
  });

  test('read-only volume (EROFS injected through the file-system seam) → read-only', async () => {
    const e = await saveOverWith(failingWrites('EROFS'), { code: 'read-only', detail: { reason: 'read-only' } });
    expect(toIpcError(e).code).toBe('read-only');
  });

  // chmod cannot stop root (CI and this container run tests as root), so there the EACCES comes from the seam.
  const chmodStopsWrites = process.getuid?.() !== 0 && process.platform !== 'win32';
  test(
    chmodStopsWrites
      ? 'read-only folder (chmod 555, real EACCES) → read-only'
      : 'read-only folder (running as root, where chmod does not stop writes: EACCES injected through the file-system seam) → read-only',
    async () => {
      if (!chmodStopsWrites) {
        await saveOverWith(failingWrites('EACCES'), { code: 'read-only', detail: { reason: 'read-only' } });
        return;
      }
      const { document, images, saved, before } = await savedSample();
      const { api } = testApi(userData());
      await value(api.open(saved.path));
      await chmod(join(dir, 'work'), 0o555);
      try {
        await expect(api.save({ document, images })).rejects.toMatchObject({ code: 'read-only' });
        expect(Buffer.compare(await readFile(saved.path), before)).toBe(0);
      } finally {
        await chmod(join(dir, 'work'), 0o755);
      }
    },
  );

  test('a missing folder → not-found, nothing created', async () => {
    const { api } = testApi(userData());
    const { document, images } = sampleProject();
    await expect(api.saveAs({ path: join(dir, 'no', 'such', 'p.atelier'), document, images })).rejects.toMatchObject({
      code: 'not-found',
    });
    expect(await snapshotDir(dir)).toEqual({});
  });
});
