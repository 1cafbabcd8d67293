import { describe, expect, test } from 'vitest';
import type { GenerateRequest, InstalledModel, Settings } from '../../../src-main/ipc/contract.ts';
import { Studio } from '../../../src-renderer/src/lib/shell/studio.svelte.ts';
import { emptyDocument, fakeApi, fakeCodec, fakeFile, fakePng } from './fakes.ts';

const READY: InstalledModel = {
  repo: 'OmniGen2/OmniGen2',
  state: 'ready',
  revision: 'main',
  commit: 'c0ffee',
  folder: '/models/OmniGen2--OmniGen2',
  source: 'download',
  checksums: 'hub',
  totalBytes: 16e9,
  doneBytes: 16e9,
  fileCount: 20,
  verifiedFiles: 20,
  updatedAt: '2026-11-26T12:00:00Z',
};
const SETTINGS = { theme: 'system' } as Settings;

function setup(installed: InstalledModel[]) {
  const requests: GenerateRequest[] = [];
  const fake = fakeApi({
    app: { info: async () => ({ ok: false, error: { code: 'internal', message: 'not needed here' } }) },
    settings: { get: async () => ({ ok: true, value: SETTINGS }) },
    models: { catalogue: async () => ({ ok: true, value: [] }), list: async () => ({ ok: true, value: installed }) },
    jobs: {
      generate: async (req) => {
        requests.push(req);
        return { ok: true, value: `job-${requests.length}` };
      },
    },
    projects: {
      recoverable: async () => ({ ok: true, value: [] }),
      create: async () => ({ ok: true, value: { path: null, source: 'new', document: emptyDocument(), images: [] } }),
      recent: async () => ({ ok: true, value: [] }),
      autosave: async () => ({ ok: true, value: { lastAutosavedAt: null, pending: true } }),
      open: async (path) => ({
        ok: true,
        value: { path, source: 'file', document: emptyDocument('opened'), images: [] },
      }),
    },
  });
  const studio = new Studio(fake.api, fakeCodec);
  studio.connect();
  return { studio, requests, emit: fake.emit, calls: fake.calls };
}

describe('Studio', () => {
  test('a project file the system asks to open opens after the fresh project, and shows the workspace', async () => {
    const { studio, emit, calls } = setup([]);
    studio.app.view = 'models';
    emit('project.openRequested', { path: '/work/plan.atelier' });
    expect(studio.app.view).toBe('workspace');
    await expect.poll(() => studio.project.path).toBe('/work/plan.atelier');
    const order = calls.map((c) => c.method).filter((m) => m === 'projects.create' || m === 'projects.open');
    expect(order).toEqual(['projects.create', 'projects.open']);
  });

  test('a project the system asks to open while there is unsaved work asks first, like Open', async () => {
    const { studio, emit, calls } = setup([]);
    await expect.poll(() => studio.project.name).toBe('Untitled');
    await expect.poll(() => calls.some((c) => c.method === 'projects.recent')).toBe(true);
    studio.workspace.setPrompt('unsaved words');
    emit('project.openRequested', { path: '/work/plan.atelier' });
    await expect.poll(() => studio.project.leaving?.doing).toBe('opening another project');
    expect(calls.some((c) => c.method === 'projects.open')).toBe(false);
  });

  test('without an installed model Generate says why, and pressing it sends nothing', async () => {
    const { studio, requests } = setup([]);
    await expect.poll(() => studio.models.loaded).toBe(true);
    studio.workspace.setPrompt('A red cube');
    expect(studio.generateBlocker).toMatch(/No model is installed yet/);
    await studio.generate();
    expect(requests).toEqual([]);
  });

  test('generate sends the workspace to the ready model, shows the run, and moves an unlocked seed on', async () => {
    const { studio, requests } = setup([READY]);
    await expect.poll(() => studio.models.ready).not.toBeNull();
    await studio.workspace.addFiles([fakeFile('cat.png', 640, 480)]);
    studio.workspace.setPrompt('Make the cat wear a hat');
    const seed = studio.workspace.seed;
    await studio.generate();
    expect(requests[0]).toMatchObject({
      model: READY.folder,
      recipe: { prompt: 'Make the cat wear a hat', seed, width: 640, height: 480, imageGuidance: 2 },
    });
    expect(requests[0]!.images).toHaveLength(1);
    expect(studio.canvas).toBe('result');
    expect(studio.workspace.seed).not.toBe(seed);
  });

  test('re-run repeats the recipe, seed and inputs; "edit this result" makes it image 1', async () => {
    const { studio, requests, emit } = setup([READY]);
    await expect.poll(() => studio.models.ready).not.toBeNull();
    studio.workspace.setPrompt('A red cube');
    await studio.generate();
    const sent = requests[0]!;
    emit('job.finished', {
      jobId: 'job-1',
      images: [
        {
          png: fakePng(64, 48),
          width: 64,
          height: 48,
          recipe: {
            ...sent.recipe,
            inputImages: [],
            modelId: 'OmniGen2/OmniGen2',
            precision: 'fp32',
            appVersion: '0.1.0',
          },
        },
      ],
    });
    await expect.poll(() => studio.history.items.length).toBe(1);
    const item = studio.history.items[0]!;

    studio.app.view = 'history';
    await studio.rerun(item);
    expect(studio.app.view).toBe('workspace');
    expect(requests[1]).toEqual({ model: READY.folder, recipe: sent.recipe, images: [] });

    studio.useResult(item, 'replace');
    expect(studio.workspace.doc.inputs.map((i) => i.image)).toEqual([item.image]);
    expect(studio.workspace.mode).toBe('edit');
    expect(studio.canvas).toBe('inputs');
  });

  test('workspace shortcuts act only on the workspace; view switches act anywhere', async () => {
    const { studio } = setup([READY]);
    studio.app.view = 'history';
    studio.execute({ kind: 'mode', mode: 'compose' });
    expect(studio.workspace.doc.modeOverride).toBeNull();
    studio.execute({ kind: 'view', view: 'workspace' });
    studio.execute({ kind: 'mode', mode: 'compose' });
    expect(studio.workspace.mode).toBe('compose');
    studio.execute({ kind: 'undo' });
    expect(studio.workspace.mode).toBe('text-to-image');
  });
});
