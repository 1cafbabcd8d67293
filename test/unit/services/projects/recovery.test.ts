import { mkdir, readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RECOVERY_FOLDER } from '../../../../src-main/services/projects/projects-api.ts';
import { failingWrites, image, sampleProject, tempDir, testApi, value } from './project-fixtures.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const userData = () => join(dir, 'userData');
const recoveryFiles = async () => (await readdir(join(userData(), RECOVERY_FOLDER)).catch(() => [])).sort();
const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('autosave', () => {
  test('at most one write per interval, with the latest change', async () => {
    const { api } = testApi(userData(), { autosaveIntervalMs: () => 50 });
    const { document, images } = sampleProject();
    const first = await value(api.autosave({ document, images, immediate: false }));
    expect(first).toEqual({ lastAutosavedAt: null, pending: true });
    await value(
      api.autosave({
        document: { ...document, workspace: { ...document.workspace, prompt: 'latest' } },
        images: [],
        immediate: false,
      }),
    );
    expect(await recoveryFiles()).toEqual([]);
    const expected = [`${document.id}.atelier`, `${document.id}.json`];
    await until(async () => JSON.stringify(await recoveryFiles()) === JSON.stringify(expected));
    expect(await recoveryFiles()).toEqual(expected);

    const next = testApi(userData()).api; // the next start
    const [offer] = await value(next.recoverable());
    expect(offer).toMatchObject({
      id: document.id,
      projectPath: null,
      savedAt: null,
      prompt: 'latest',
      resultCount: 2,
    });
  });

  test('immediate (after a finished generation) writes before answering', async () => {
    const { api } = testApi(userData());
    const { document, images } = sampleProject();
    const state = await value(api.autosave({ document, images, immediate: true }));
    expect(state.pending).toBe(false);
    expect(state.lastAutosavedAt).not.toBeNull();
    expect(await recoveryFiles()).toHaveLength(2);
  });

  test('a full disk during an immediate autosave is reported and the work stays pending', async () => {
    const { api } = testApi(userData(), { fs: failingWrites('ENOSPC', 10) });
    const { document, images } = sampleProject();
    await expect(api.autosave({ document, images, immediate: true })).rejects.toMatchObject({ code: 'disk-full' });
    const retry = await api.autosave({ document, images: [], immediate: false });
    expect(retry).toMatchObject({ ok: true, value: { pending: true } });
  });

  test('an autosave needs every image (missing-image) and writes nothing without it', async () => {
    const { api } = testApi(userData());
    const { document, images } = sampleProject();
    await expect(api.autosave({ document, images: images.slice(2), immediate: true })).rejects.toMatchObject({
      detail: { reason: 'missing-image' },
    });
    expect(await recoveryFiles()).toEqual([]);
  });
});

describe('crash recovery', () => {
  async function crashAfterAutosave() {
    const { document, images } = sampleProject();
    await mkdir(join(dir, 'work'));
    const session = testApi(userData()).api;
    const saved = await value(session.saveAs({ path: join(dir, 'work', 'fox.atelier'), document, images }));
    const extra = image();
    const unsaved = {
      ...document,
      workspace: {
        ...document.workspace,
        prompt: 'unsaved change',
        inputs: [{ hash: extra.hash, label: 'added', crop: null }],
      },
    };
    await value(session.autosave({ document: unsaved, images: [extra], immediate: true }));
    // Filesystem times can be coarse: make the autosave clearly later than the save, as it is in real use.
    const later = new Date(Date.now() + 5_000);
    await utimes(join(userData(), RECOVERY_FOLDER, `${document.id}.atelier`), later, later);
    expect(await value(session.recoverable())).toEqual([]); // this session's own autosave is no leftover
    return { saved, unsaved, extra }; // ...and the process dies here
  }

  test('the next start offers work autosaved after the last save, and recover restores it', async () => {
    const { saved, unsaved, extra } = await crashAfterAutosave();
    const { api } = testApi(userData());
    const offers = await value(api.recoverable());
    expect(offers).toEqual([
      expect.objectContaining({ id: unsaved.id, projectPath: saved.path, prompt: 'unsaved change' }),
    ]);
    expect(offers[0]!.savedAt).not.toBeNull();

    const recovered = await value(api.recover(unsaved.id));
    expect(recovered).toMatchObject({ path: saved.path, source: 'recovery', document: unsaved });
    expect(recovered.images.map((i) => i.hash)).toContain(extra.hash);
    expect(await value(api.recoverable())).toEqual([]);

    // Saving the recovered work writes it to its project and retires the recovery file.
    await value(api.save({ document: recovered.document, images: [] }));
    expect(await recoveryFiles()).toEqual([]);
    expect((await value(testApi(userData()).api.open(saved.path))).document.workspace.prompt).toBe('unsaved change');
  });

  test('discard deletes the recovery file and leaves the project as saved', async () => {
    const { saved, unsaved } = await crashAfterAutosave();
    const { api } = testApi(userData());
    await value(api.discardRecovery(unsaved.id));
    expect(await recoveryFiles()).toEqual([]);
    expect(await value(api.recoverable())).toEqual([]);
    expect((await value(api.open(saved.path))).document.workspace.prompt).not.toBe('unsaved change');
  });

  test('a recovery file older than its project’s last save is not offered (and is cleaned up)', async () => {
    const { saved, unsaved } = await crashAfterAutosave();
    const evenLater = new Date(Date.now() + 10_000);
    await utimes(saved.path, evenLater, evenLater);
    expect(await value(testApi(userData()).api.recoverable())).toEqual([]);
    expect(await recoveryFiles()).not.toContain(`${unsaved.id}.atelier`);
  });

  test('saving and closing retire the recovery file within the session', async () => {
    const { api } = testApi(userData());
    const created = await value(api.create());
    await value(api.autosave({ document: created.document, images: [], immediate: true }));
    expect(await recoveryFiles()).toHaveLength(2);
    await value(api.saveAs({ path: join(dir, 'new.atelier'), document: created.document, images: [] }));
    expect(await recoveryFiles()).toEqual([]);

    await value(api.autosave({ document: created.document, images: [], immediate: true }));
    await value(api.close());
    expect(await recoveryFiles()).toEqual([]);
  });

  test('recover of an unknown id → not-found/no-recovery; a path-like id is refused', async () => {
    const { api } = testApi(userData());
    await expect(api.recover('nothing-here')).rejects.toMatchObject({
      code: 'not-found',
      detail: { reason: 'no-recovery' },
    });
    await expect(api.discardRecovery('../../etc')).rejects.toMatchObject({ code: 'invalid-request' });
  });
});
