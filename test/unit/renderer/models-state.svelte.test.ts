import { describe, expect, test } from 'vitest';
import type { CatalogueEntry, InstalledModel } from '../../../src-main/ipc/contract.ts';
import { ModelsState } from '../../../src-renderer/src/lib/models/models-state.svelte.ts';
import { fakeApi } from './fakes.ts';

const OMNIGEN2: CatalogueEntry = {
  repo: 'OmniGen2/OmniGen2',
  title: 'OmniGen2',
  description: '…',
  approxBytes: 16e9,
  license: 'Apache-2.0',
  homepage: 'https://huggingface.co/OmniGen2/OmniGen2',
};
const installed = (state: InstalledModel['state'], repo = 'OmniGen2/OmniGen2'): InstalledModel => ({
  repo,
  state,
  revision: 'main',
  commit: 'abc',
  folder: `/models/${repo.replace('/', '--')}`,
  source: 'download',
  checksums: 'hub',
  totalBytes: 16e9,
  doneBytes: state === 'ready' ? 16e9 : 4e9,
  fileCount: 20,
  verifiedFiles: 3,
  updatedAt: '2026-11-26T12:00:00Z',
});

function setup(list: InstalledModel[] = [], extra: Parameters<typeof fakeApi>[0] = {}) {
  const fake = fakeApi({
    ...extra,
    models: {
      catalogue: async () => ({ ok: true, value: [OMNIGEN2] }),
      list: async () => ({ ok: true, value: list }),
      ...extra.models,
    },
  });
  const models = new ModelsState(fake.api);
  const off = models.connect();
  return { ...fake, models, off };
}

describe('ModelsState', () => {
  test('first run: the catalogue is listed as not installed, and nothing is ready to generate with', async () => {
    const { models } = setup();
    await expect.poll(() => models.loaded).toBe(true);
    expect(models.isFirstRun).toBe(true);
    expect(models.ready).toBeNull();
    expect(models.rows).toEqual([
      expect.objectContaining({ repo: 'OmniGen2/OmniGen2', title: 'OmniGen2', state: 'not-installed', model: null }),
    ]);
  });

  test('an installed ready model is the one generation uses; imported models outside the catalogue are listed too', async () => {
    const { models } = setup([installed('ready'), installed('ready', 'someone/tiny-omnigen2')]);
    await expect.poll(() => models.loaded).toBe(true);
    expect(models.isFirstRun).toBe(false);
    expect(models.ready?.repo).toBe('OmniGen2/OmniGen2');
    expect(models.rows.map((r) => r.repo)).toEqual(['OmniGen2/OmniGen2', 'someone/tiny-omnigen2']);
  });

  test('download → progress events → state events; pause and resume answer with the new state', async () => {
    const { models, emit, calls } = setup([], {
      models: {
        download: async () => ({ ok: true, value: installed('downloading') }),
        pause: async () => ({ ok: true, value: installed('paused') }),
        resume: async () => ({ ok: true, value: installed('downloading') }),
      },
    });
    await expect.poll(() => models.loaded).toBe(true);
    const pending = models.download('OmniGen2/OmniGen2');
    expect(models.busy['OmniGen2/OmniGen2']).toBe('download');
    await pending;
    expect(models.busy).toEqual({});
    expect(models.rows[0]!.state).toBe('downloading');
    emit('download.progress', {
      repo: 'OmniGen2/OmniGen2',
      phase: 'downloading',
      doneBytes: 5e9,
      totalBytes: 16e9,
      bytesPerSec: 5e7,
      etaMs: 220_000,
      filesDone: 4,
      fileCount: 20,
      files: [],
      notice: null,
    });
    expect(models.rows[0]!.progress).toMatchObject({ doneBytes: 5e9 });
    await models.pause('OmniGen2/OmniGen2');
    expect(models.rows[0]!.state).toBe('paused');
    await models.resume('OmniGen2/OmniGen2');
    emit('model.state', { repo: 'OmniGen2/OmniGen2', state: 'ready', model: installed('ready') });
    expect(models.ready?.repo).toBe('OmniGen2/OmniGen2');
    expect(models.rows[0]!.progress).toBeNull();
    expect(calls.map((c) => c.method)).toEqual(
      expect.arrayContaining(['models.download', 'models.pause', 'models.resume']),
    );
  });

  test('a refused download explains itself with both numbers and the next step', async () => {
    const { models } = setup([], {
      models: {
        download: async () => ({
          ok: false,
          error: {
            code: 'disk-full',
            message: 'not enough disk space in /models',
            detail: { neededBytes: 32e9, freeBytes: 12e9 },
          },
        }),
      },
    });
    await expect.poll(() => models.loaded).toBe(true);
    await models.download('OmniGen2/OmniGen2');
    expect(models.notice).toMatchObject({
      title: 'Downloading OmniGen2/OmniGen2: not enough disk space',
      next: expect.stringMatching(/^It needs 32\.0 GB and 12\.0 GB is free\./),
    });
    expect(models.rows[0]!.state).toBe('not-installed');
  });

  test('cancel without keeping files, and remove, leave the model not installed', async () => {
    const { models } = setup([installed('paused')], {
      models: {
        cancel: async () => ({ ok: true, value: undefined }),
        remove: async () => ({ ok: true, value: undefined }),
      },
    });
    await expect.poll(() => models.loaded).toBe(true);
    await models.cancel('OmniGen2/OmniGen2', false);
    expect(models.rows[0]!.state).toBe('not-installed');
    expect(models.isFirstRun).toBe(true);
  });

  test('import sends the folder trimmed and lists the verified model', async () => {
    const { models, calls } = setup([], {
      models: { import: async () => ({ ok: true, value: { ...installed('ready'), source: 'import' } }) },
    });
    await expect.poll(() => models.loaded).toBe(true);
    await models.importFolder('  /home/me/OmniGen2  ');
    expect(calls.find((c) => c.method === 'models.import')!.args).toEqual([{ folder: '/home/me/OmniGen2' }]);
    expect(models.ready?.source).toBe('import');
  });
});
