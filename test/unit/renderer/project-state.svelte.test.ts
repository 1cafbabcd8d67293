import { describe, expect, test } from 'vitest';
import type {
  AutosaveRequest,
  GenerateRequest,
  InstalledModel,
  OpenedProject,
  ProjectImage,
  SaveProjectAsRequest,
  Settings,
} from '../../../src-main/ipc/contract.ts';
import { Studio } from '../../../src-renderer/src/lib/shell/studio.svelte.ts';
import { emptyDocument, fakeApi, fakeCodec, fakeFile, fakePng } from './fakes.ts';

const READY: InstalledModel = {
  repo: 'OmniGen2/OmniGen2',
  state: 'ready',
  revision: 'main',
  commit: 'c0ffee',
  folder: 'OmniGen2--OmniGen2',
  source: 'download',
  checksums: 'hub',
  totalBytes: 1,
  doneBytes: 1,
  fileCount: 1,
  verifiedFiles: 1,
  updatedAt: '2026-11-26T12:00:00Z',
};

/** A Studio over fakes that record what reaches main; `open` answers projects.open. */
function setup(open: OpenedProject | null = null) {
  const saved: SaveProjectAsRequest[] = [];
  const autosaves: AutosaveRequest[] = [];
  const discarded: string[] = [];
  let created = 0;
  const requests: GenerateRequest[] = [];
  const fake = fakeApi({
    app: { info: async () => ({ ok: false, error: { code: 'internal', message: 'not needed here' } }) },
    settings: { get: async () => ({ ok: true, value: { theme: 'system' } as Settings }) },
    models: { catalogue: async () => ({ ok: true, value: [] }), list: async () => ({ ok: true, value: [READY] }) },
    jobs: {
      generate: async (req) => {
        requests.push(req);
        return { ok: true, value: `job-${requests.length}` };
      },
    },
    dialogs: {
      saveProjectPath: async (name) => ({ ok: true, value: `/projects/${name}` }),
      openProjectPath: async () => ({ ok: true, value: '/projects/other.atelier' }),
    },
    projects: {
      recoverable: async () => ({ ok: true, value: [] }),
      create: async () => ({
        ok: true,
        value: { path: null, source: 'new', document: emptyDocument(`project-${++created}`), images: [] },
      }),
      recent: async () => ({ ok: true, value: [] }),
      autosave: async (req) => {
        autosaves.push(req);
        return { ok: true, value: { lastAutosavedAt: null, pending: !req.immediate } };
      },
      saveAs: async (req) => {
        saved.push(req);
        return { ok: true, value: { path: req.path, modifiedAt: '2026-11-26T13:00:00.000Z', sizeBytes: 1 } };
      },
      open: async () =>
        open
          ? { ok: true, value: open }
          : { ok: false, error: { code: 'corrupt-file', message: 'the project file is truncated' } },
      discardRecovery: async (id) => {
        discarded.push(id);
        return { ok: true, value: undefined };
      },
    },
  });
  const studio = new Studio(fake.api, fakeCodec);
  studio.connect();
  return { studio, saved, autosaves, discarded, requests, emit: fake.emit };
}

/** Edits the workspace, runs one generation and lets it finish. */
async function makeWork(s: ReturnType<typeof setup>) {
  const { studio, requests, emit } = s;
  await expect.poll(() => studio.models.ready !== null && !studio.project.dirty).toBe(true);
  await studio.workspace.addFiles([fakeFile('cat.png', 640, 480)]);
  await studio.workspace.cropInput(studio.workspace.doc.inputs[0]!.id, { x: 10, y: 20, width: 320, height: 240 });
  studio.workspace.setPrompt('Give the cat a hat');
  studio.workspace.setNumber('steps', 12);
  await studio.generate();
  const sent = requests[0]!;
  emit('job.finished', {
    jobId: 'job-1',
    images: [
      {
        png: fakePng(320, 240, 7),
        width: 320,
        height: 240,
        recipe: {
          ...sent.recipe,
          inputImages: [studio.workspace.doc.inputs[0]!.image],
          modelId: READY.repo,
          precision: 'fp32',
          appVersion: '0.1.0',
        },
      },
    ],
  });
  await expect.poll(() => studio.history.items.length).toBe(1);
}

describe('ProjectState', () => {
  test('save as writes the workspace and history; opening that file elsewhere restores them', async () => {
    const first = setup();
    await makeWork(first);
    expect(first.studio.project.dirty).toBe(true);
    expect(first.autosaves.at(-1)?.immediate).toBe(true); // right after the finished run
    expect(await first.studio.project.save()).toBe(true); // untitled: asks for a path
    expect(first.studio.project.name).toBe('Untitled');
    expect(first.studio.project.path).toBe('/projects/Untitled.atelier');
    expect(first.studio.project.dirty).toBe(false);

    const req = first.saved[0]!;
    // Every image crossed once: the autosaves sent them, so the save sends none again.
    const sentImages = new Map<string, ProjectImage>(first.autosaves.flatMap((a) => a.images).map((i) => [i.hash, i]));
    expect(req.images).toEqual([]);
    expect(req.document.workspace.inputs).toEqual([
      {
        hash: first.studio.workspace.doc.inputs[0]!.source,
        label: 'cat.png',
        crop: { x: 10, y: 20, width: 320, height: 240 },
      },
    ]);

    const second = setup({ path: req.path, source: 'file', document: req.document, images: [...sentImages.values()] });
    await expect.poll(() => second.studio.project.dirty).toBe(false);
    second.studio.project.open();
    await expect.poll(() => second.studio.project.path).toBe(req.path);
    const ws = second.studio.workspace;
    expect(ws.doc.prompt).toBe('Give the cat a hat');
    expect(ws.doc.inputs.map((i) => [i.name, i.crop, i.image])).toEqual(
      first.studio.workspace.doc.inputs.map((i) => [i.name, i.crop, i.image]),
    );
    expect(ws.doc.params.steps).toBe(12);
    expect(ws.seed).toBe(first.studio.workspace.seed);
    expect(second.studio.history.items.map((i) => [i.image, i.recipe.prompt])).toEqual([
      [first.studio.history.items[0]!.image, 'Give the cat a hat'],
    ]);
    expect(second.studio.project.dirty).toBe(false);
    expect(second.studio.workspace.undoHistory.canUndo).toBe(false);
  });

  test('a new project over unsaved work asks first; "don’t save" drops the work and its recovery file', async () => {
    const s = setup();
    await makeWork(s);
    s.studio.execute({ kind: 'project', action: 'new' });
    expect(s.studio.project.leaving?.doing).toBe('starting a new project');
    await s.studio.project.leave('discard');
    expect(s.studio.history.items).toEqual([]);
    expect(s.studio.workspace.doc.inputs).toEqual([]);
    expect(s.studio.project.dirty).toBe(false);
    expect(s.discarded).toEqual(['project-1']);
  });

  test('a damaged file gives the plain-language message and leaves the workspace as it was', async () => {
    const s = setup(null);
    await expect.poll(() => s.studio.project.dirty).toBe(false);
    s.studio.workspace.setPrompt('Keep me');
    s.studio.project.open('/projects/broken.atelier');
    await s.studio.project.leave('discard');
    await expect.poll(() => s.studio.project.message?.notice.title).toBe('Opening the project: the file is damaged');
    expect(s.studio.project.message?.notice.detail).toBe('The project file is truncated.');
    expect(s.studio.workspace.doc.prompt).toBe('Keep me');
  });
});
