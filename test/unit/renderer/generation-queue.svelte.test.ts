import { beforeEach, describe, expect, test } from 'vitest';
import type { GeneratedImage, JobId, Recipe, Result } from '../../../src-main/ipc/contract.ts';
import { HistoryState } from '../../../src-renderer/src/lib/history/history-state.svelte.ts';
import { GenerationQueue } from '../../../src-renderer/src/lib/jobs/generation-queue.svelte.ts';
import { ImageStore } from '../../../src-renderer/src/lib/workspace/image-store.ts';
import { WorkspaceState } from '../../../src-renderer/src/lib/workspace/workspace-state.svelte.ts';
import { fakeApi, fakeCodec, fakeFile, fakePng } from './fakes.ts';

let store: ImageStore;
let history: HistoryState;
let ws: WorkspaceState;
let ids: JobId[];
let generated: unknown[];

function setup(answer?: () => Result<JobId>) {
  const fake = fakeApi({
    jobs: {
      generate: async (req) => {
        generated.push(req);
        return answer?.() ?? { ok: true, value: ids.shift()! };
      },
      cancel: async () => ({ ok: true, value: undefined }),
    },
  });
  const queue = new GenerationQueue(fake.api, store, history, () => new Date('2026-11-26T12:00:00Z'));
  const off = queue.connect();
  return { ...fake, queue, off };
}

const image = (recipe: Recipe, tag: number): GeneratedImage => ({
  png: fakePng(recipe.width, recipe.height, tag),
  width: recipe.width,
  height: recipe.height,
  recipe,
});
const recipeOf = (spec: ReturnType<WorkspaceState['spec']>): Recipe => ({
  ...spec.recipe,
  inputImages: spec.inputs,
  modelId: 'OmniGen2/OmniGen2',
  precision: 'fp32',
  appVersion: '0.1.0',
});

beforeEach(async () => {
  store = new ImageStore(fakeCodec);
  history = new HistoryState();
  ws = new WorkspaceState(store);
  ids = ['job-a', 'job-b'];
  generated = [];
  await ws.addFiles([fakeFile('cat.png', 640, 480)]);
  ws.setPrompt('Make the cat blue');
});

describe('GenerationQueue', () => {
  test('submit → queued → progress with preview and ETA → finished files the result in history', async () => {
    const { queue, emit } = setup();
    const spec = ws.spec();
    await queue.submit('/models/OmniGen2', spec);
    expect(generated[0]).toMatchObject({
      model: '/models/OmniGen2',
      recipe: { prompt: 'Make the cat blue', seed: ws.seed },
      images: [store.get(spec.inputs[0]!)!.bytes],
    });
    expect(queue.jobs[0]).toMatchObject({ jobId: 'job-a', phase: 'queued', label: 'Make the cat blue' });

    emit('job.started', { jobId: 'job-a' });
    emit('job.progress', {
      jobId: 'job-a',
      step: 3,
      total: 50,
      etaMs: 41_000,
      stage: 'denoising',
      preview: fakePng(8, 8),
    });
    expect(queue.running).toMatchObject({ step: 3, total: 50, etaMs: 41_000, stage: 'denoising' });
    expect(queue.running!.previewUrl).toMatch(/^blob:/);

    emit('job.finished', { jobId: 'job-a', images: [image(recipeOf(spec), 1)] });
    await expect.poll(() => queue.jobs[0]!.phase).toBe('done'); // the PNG is hashed first (crypto.subtle)
    expect(queue.jobs[0]).toMatchObject({ phase: 'done', previewUrl: null });
    expect(queue.active).toEqual([]);
    expect(history.items).toHaveLength(1);
    expect(history.selected).toMatchObject({
      jobId: 'job-a',
      mode: 'edit',
      inputs: spec.inputs,
      model: '/models/OmniGen2',
      createdAt: '2026-11-26T12:00:00.000Z',
    });
    expect(store.get(history.selected!.image)).toBeDefined();
  });

  test('events that arrive before generate() answers are not lost', async () => {
    let release!: () => void;
    const fake = fakeApi({
      jobs: {
        generate: () =>
          new Promise((r) => {
            release = () => r({ ok: true, value: 'job-early' });
          }),
      },
    });
    const queue = new GenerationQueue(fake.api, store, history);
    queue.connect();
    const pending = queue.submit('m', ws.spec());
    fake.emit('job.started', { jobId: 'job-early' });
    fake.emit('job.progress', { jobId: 'job-early', step: 2, total: 4, etaMs: null, stage: 'denoising' });
    release();
    await pending;
    expect(queue.jobs[0]).toMatchObject({ phase: 'running', step: 2, total: 4 });
  });

  test("a refused request fails with the plain-language notice; other jobs' events are ignored", async () => {
    const { queue, emit } = setup(() => ({
      ok: false,
      error: { code: 'model-missing', message: 'transformer weights not found' },
    }));
    emit('job.finished', { jobId: 'probe-1', images: [] });
    await queue.submit('m', ws.spec());
    expect(queue.jobs[0]).toMatchObject({ phase: 'failed', error: { code: 'model-missing' } });
    expect(queue.notice).toMatchObject({
      title: 'Generating: the model is not installed',
      detail: 'Transformer weights not found.',
    });
    expect(history.items).toEqual([]);
  });

  test('Esc cancels the running job first; a cancelled job ends cancelled without a failure notice', async () => {
    const { queue, emit, calls } = setup();
    await queue.submit('m', ws.spec());
    await queue.submit('m', ws.spec());
    emit('job.started', { jobId: 'job-a' });
    await queue.cancelCurrent();
    expect(calls.filter((c) => c.method === 'jobs.cancel').map((c) => c.args[0])).toEqual(['job-a']);
    emit('job.failed', { jobId: 'job-a', error: { code: 'cancelled', message: 'cancelled' } });
    expect(queue.jobs[0]!.phase).toBe('cancelled');
    expect(queue.notice).toBeNull();
    await queue.cancelCurrent();
    expect(calls.filter((c) => c.method === 'jobs.cancel').map((c) => c.args[0])).toEqual(['job-a', 'job-b']);
  });

  test('several images of one run land together; the first is shown', async () => {
    const { queue, emit } = setup();
    ws.setNumber('numImages', 2);
    const spec = ws.spec();
    await queue.submit('m', spec);
    emit('job.finished', { jobId: 'job-a', images: [image(recipeOf(spec), 1), image(recipeOf(spec), 2)] });
    await expect.poll(() => history.items.length).toBe(2);
    expect(history.items.map((i) => i.id)).toEqual(['job-a-0', 'job-a-1']);
    expect(history.siblings).toHaveLength(2);
    expect(history.selected!.id).toBe('job-a-0');
  });

  test('disconnect removes every listener', () => {
    const { off, listenerCount } = setup();
    expect(listenerCount()).toBe(4);
    off();
    expect(listenerCount()).toBe(0);
  });
});

describe('GenerationQueue when a finished image cannot be read', () => {
  test('the run ends failed with a plain notice instead of running forever', async () => {
    const fake = fakeApi({ jobs: { generate: async () => ({ ok: true, value: 'job-x' }) } });
    const queue = new GenerationQueue(fake.api, store, history);
    queue.connect();
    await queue.submit('m', ws.spec());
    const spec = ws.spec();
    fake.emit('job.finished', {
      jobId: 'job-x',
      images: [{ png: new Uint8Array([1, 2, 3]), width: 1, height: 1, recipe: recipeOf(spec) }],
    });
    await expect.poll(() => queue.jobs[0]!.phase).toBe('failed');
    expect(queue.notice?.detail).toMatch(/The finished image could not be shown/);
    expect(history.items).toEqual([]);
  });
});
