import { describe, expect, test } from 'vitest';
import type {
  JobId,
  ReflectRequest,
  ReflectionRound,
  ReflectionSession,
  Result,
} from '../../../src-main/ipc/contract.ts';
import { filmstrip } from '../../../src-renderer/src/lib/reflection/filmstrip.ts';
import { ReflectionState } from '../../../src-renderer/src/lib/reflection/reflection-state.svelte.ts';
import { ImageStore, sha256Hex } from '../../../src-renderer/src/lib/workspace/image-store.ts';
import { fakeApi, fakeCodec, fakePng } from './fakes.ts';

const PARAMS = {
  seed: 7,
  steps: 2,
  textGuidance: 5,
  imageGuidance: 2,
  cfgRange: [0, 1] as [number, number],
  scheduler: 'euler' as const,
  width: 64,
  height: 64,
  maxPixels: 4096,
  maxSideLength: 64,
  numImages: 1,
  acceleration: 'none' as const,
};

function request(over: Partial<ReflectRequest> = {}): ReflectRequest {
  return {
    model: 'OmniGen2',
    recipe: { ...PARAMS, prompt: 'a photo of a red car', negativePrompt: '' },
    images: [],
    maxRevisions: 3,
    threshold: 0.5,
    force: [],
    checklist: null,
    continueFrom: null,
    ...over,
  };
}

function round(id: string, over: Partial<ReflectionRound> = {}): ReflectionRound {
  return {
    id,
    parentId: null,
    mode: 'generate',
    text: 'a photo of a red car',
    seed: 7,
    parameters: PARAMS,
    inputImages: [],
    outputImage: null,
    checklist: [],
    fix: null,
    score: null,
    timings: { generateMs: null, critiqueMs: null, fixMs: null },
    modelId: 'OmniGen2',
    ...over,
  };
}

const checklist = [
  { question: 'Is there a car in the picture?', tag: 'object' as const, probability: 0.9, passed: true },
  { question: 'Is the car red?', tag: 'color' as const, probability: 0.2, passed: false },
];

function setup(answer: () => Result<JobId> = () => ({ ok: true, value: 'job-1' })) {
  const requests: ReflectRequest[] = [];
  const fake = fakeApi({
    jobs: {
      reflect: async (req) => {
        requests.push(req);
        return answer();
      },
      acceptReflection: async () => ({ ok: true, value: undefined }),
      cancel: async () => ({ ok: true, value: undefined }),
    },
  });
  const images = new ImageStore(fakeCodec);
  const state = new ReflectionState(fake.api, images, () => new Date('2026-11-26T12:00:00Z'));
  const off = state.connect();
  return { ...fake, state, images, requests, off };
}

describe('ReflectionState', () => {
  test('follows a run: checklist, stages per round, round records with images, the finished session', async () => {
    const { state, emit, images, requests, off, listenerCount } = setup();
    const key = await state.start(request());
    expect(requests[0]).toMatchObject({ model: 'OmniGen2', recipe: { prompt: 'a photo of a red car' } });
    const run = () => state.runs.find((r) => r.key === key)!;
    expect(run()).toMatchObject({ jobId: 'job-1', phase: 'running', session: null });

    emit('reflect.checklist', {
      jobId: 'job-1',
      sessionId: 's1',
      source: 'template',
      checks: checklist.map(({ question, tag }) => ({ question, tag })),
    });
    emit('reflect.stage', { jobId: 'job-1', sessionId: 's1', roundId: 'r0', stage: 'generating' });
    emit('reflect.round', { jobId: 'job-1', sessionId: 's1', round: round('r0'), image: null });
    expect(state.cards(key)).toMatchObject([
      { checks: 'Not checked', stage: 'generating', action: 'Generate, seed 7', isBest: false },
    ]);

    const png = fakePng(64, 64, 1);
    emit('reflect.round', {
      jobId: 'job-1',
      sessionId: 's1',
      round: round('r0', { outputImage: 'h0', checklist, score: { passed: 1, total: 2, meanProbability: 0.55 } }),
      image: { hash: 'h0', bytes: png },
    });
    emit('reflect.stage', { jobId: 'job-1', sessionId: 's1', roundId: 'r0', stage: 'writing-fix' });
    emit('reflect.stage', { jobId: 'job-1', sessionId: 's1', roundId: 'r1', stage: 'generating' });
    emit('reflect.round', {
      jobId: 'job-1',
      sessionId: 's1',
      round: round('r1', { parentId: 'r0', mode: 'edit', text: 'Make the car red.', seed: 8 }),
      image: null,
    });
    expect(run().session).toMatchObject({
      id: 's1',
      prompt: 'a photo of a red car',
      rounds: [{ id: 'r0' }, { id: 'r1' }],
    });
    expect(state.cards(key).map((c) => [c.depth, c.checks, c.action, c.before])).toEqual([
      [0, '1/2 checks', 'Generate, seed 7', null],
      [1, 'Not checked', 'Edit: Make the car red.', 'h0'],
    ]);
    const hash = await sha256Hex(png);
    await expect.poll(() => images.get(hash)).toBeDefined(); // the round's image is in the store for the thumbnail

    const session: ReflectionSession = {
      ...run().session!,
      rounds: [
        round('r0', { score: { passed: 1, total: 2, meanProbability: 0.55 }, checklist }),
        round('r1', {
          parentId: 'r0',
          mode: 'edit',
          text: 'Make the car red.',
          score: { passed: 2, total: 2, meanProbability: 0.9 },
        }),
      ],
      bestRoundId: 'r1',
      stopReason: 'done',
    };
    emit('reflect.finished', { jobId: 'job-1', session });
    expect(run()).toMatchObject({ phase: 'finished', stage: null, session: { bestRoundId: 'r1', stopReason: 'done' } });
    expect(state.cards(key).map((c) => c.isBest)).toEqual([false, true]);
    off();
    expect(listenerCount()).toBe(0);
  });

  test('accept asks main to stop; the later cancelled job.failed does not undo the finished run', async () => {
    const { state, emit, calls } = setup();
    const key = await state.start(request());
    await state.accept(key);
    expect(calls.map((c) => c.method)).toContain('jobs.acceptReflection');
    emit('reflect.finished', {
      jobId: 'job-1',
      session: {
        id: 's1',
        prompt: 'p',
        createdAt: '2026-11-26T12:00:00.000Z',
        threshold: 0.5,
        rounds: [],
        bestRoundId: null,
        stopReason: 'user',
      },
    });
    emit('job.failed', { jobId: 'job-1', error: { code: 'cancelled', message: 'cancelled' } });
    expect(state.runs[0]).toMatchObject({ phase: 'finished', session: { stopReason: 'user' } });
  });

  test('a refused request fails the run with its error; cancel marks it cancelled', async () => {
    const refused = setup(() => ({ ok: false, error: { code: 'invalid-request', message: 'bad' } }));
    await refused.state.start(request());
    expect(refused.state.runs[0]).toMatchObject({ phase: 'failed', error: { code: 'invalid-request' } });

    const { state, emit } = setup();
    const key = await state.start(request());
    await state.cancel(key);
    emit('job.failed', { jobId: 'job-1', error: { code: 'cancelled', message: 'cancelled' } });
    expect(state.runs[0]!.phase).toBe('cancelled');
  });

  test('continue from here shows the stored rounds first and events that came before the job id are applied', async () => {
    let release!: (r: Result<JobId>) => void;
    const fake = fakeApi({
      jobs: {
        reflect: () =>
          new Promise((r) => {
            release = r;
          }),
      },
    });
    const state = new ReflectionState(fake.api, new ImageStore(fakeCodec));
    state.connect();
    const stored: ReflectionSession = {
      id: 's1',
      prompt: 'a photo of a red car',
      createdAt: '2026-11-26T12:00:00.000Z',
      threshold: 0.5,
      rounds: [round('r0', { outputImage: 'h0', score: { passed: 1, total: 2, meanProbability: 0.5 } })],
      bestRoundId: 'r0',
      stopReason: 'max-rounds',
    };
    const started = state.start(
      request({
        continueFrom: {
          session: stored,
          roundId: 'r0',
          image: { hash: 'h0', bytes: fakePng(64, 64) },
          fix: 'Make the car red.',
        },
      }),
    );
    fake.emit('reflect.round', {
      jobId: 'job-9',
      sessionId: 's1',
      round: round('r1', { parentId: 'r0', mode: 'edit', text: 'Make the car red.' }),
      image: null,
    });
    release({ ok: true, value: 'job-9' });
    const key = await started;
    expect(state.cards(key).map((c) => [c.round.id, c.depth])).toEqual([
      ['r0', 0],
      ['r1', 1],
    ]);
  });
});

describe('filmstrip cards', () => {
  test('screen-reader labels say the round, the action, the checks, what failed and the star', () => {
    const session: ReflectionSession = {
      id: 's',
      prompt: 'p',
      createdAt: '2026-11-26T12:00:00.000Z',
      threshold: 0.5,
      bestRoundId: 'r0',
      stopReason: 'no-progress',
      rounds: [
        round('r0', { checklist, score: { passed: 1, total: 2, meanProbability: 0.55 } }),
        round('r1', { parentId: 'r0', mode: 'regenerate', seed: 81723 }),
      ],
    };
    const cards = filmstrip(session, { roundId: 'r1', stage: 'checking' });
    expect(cards.map((c) => c.label)).toEqual([
      'Round 0. 1/2 checks. Generate, seed 7. failed: Is the car red?. best round',
      'Round 1. Not checked. Regenerate, seed 81723. Checking…',
    ]);
  });
});
