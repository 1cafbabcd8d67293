import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Events, ProjectImage, ReflectRequest, ReflectionSession } from '../../src-main/ipc/contract.ts';
import { startWorkerEngine } from '../../src-main/engine/host/worker-engine.ts';
import { DEFAULT_RECIPE_PARAMS } from '../../src-main/services/generation/recipe.ts';
import { ReflectionJobs, withTaskReports } from '../../src-main/services/generation/reflection-jobs.ts';
import { JobQueue } from '../../src-main/services/jobs/job-queue.ts';
import { emptyDocument } from '../../src-main/services/projects/empty-document.ts';
import { readRecipe } from '../../src-main/services/projects/png-recipe.ts';
import { checkProjectDocument, imageRefs } from '../../src-main/services/projects/project-schema.ts';
import { goldenDir } from '../helpers/golden.ts';

// The app's reflect jobs over a real engine host (worker thread) and the tiny golden model: events, stored images
// with recipes, the session as a project stores it, "continue from here" and accept (reflection.md §4.6–4.7).
const modelDir = join(goldenDir(), 'e2e', 'model');

type Emitted = { [E in keyof Events]: { event: E; payload: Events[E] } }[keyof Events];
const emitted: Emitted[] = [];
let onEmit: (e: Emitted) => void = () => {};
const emit = <E extends keyof Events>(event: E, payload: Events[E]) => {
  const e = { event, payload } as Emitted;
  emitted.push(e);
  onEmit(e);
};
const reflections = new ReflectionJobs({ emit, version: '0.1.0-test', modelsDir: () => goldenDir() });
const engine = withTaskReports(startWorkerEngine(), reflections);
const queue = new JobQueue(engine, emit);
afterAll(() => engine.dispose());

function request(over: Partial<ReflectRequest> = {}): ReflectRequest {
  return {
    model: modelDir,
    recipe: {
      ...DEFAULT_RECIPE_PARAMS,
      prompt: 'a photo of a red cup',
      negativePrompt: '',
      steps: 2,
      width: 64,
      height: 64,
      seed: 3,
    },
    images: [],
    maxRevisions: 1,
    threshold: 0.5,
    force: [],
    checklist: null,
    continueFrom: null,
    ...over,
  };
}

const of = <E extends keyof Events>(event: E, jobId: string) =>
  emitted.flatMap((e) =>
    e.event === event && 'jobId' in e.payload && e.payload.jobId === jobId ? [e.payload as Events[E]] : [],
  );

async function reflect(req: ReflectRequest) {
  const jobId = reflections.submit(queue, req);
  await queue.idle();
  const images = new Map(
    of('reflect.round', jobId).flatMap((r) => (r.image ? [[r.image.hash, r.image] as const] : [])),
  );
  const [finished] = of('reflect.finished', jobId);
  return { jobId, images, session: finished!.session };
}

/** The session stored in a project document passes the project schema, and every image it names is at hand. */
function expectStorable(session: ReflectionSession, images: ReadonlyMap<string, ProjectImage>) {
  const doc = { ...emptyDocument({ id: 'p1', now: new Date(), appVersion: '0.1.0-test' }), reflections: [session] };
  expect(() => checkProjectDocument(doc, 'doc')).not.toThrow();
  for (const hash of imageRefs(doc).required) expect(images.has(hash), hash).toBe(true);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('reflect jobs through the job queue and a worker engine', () => {
  let first: Awaited<ReturnType<typeof reflect>>;

  test('a run emits the checklist, stage and round events, stores PNGs with their recipes and ends with the session', async () => {
    first = await reflect(request());
    const { jobId, images, session } = first;
    expect(of('reflect.checklist', jobId)).toEqual([
      {
        jobId,
        sessionId: session.id,
        source: 'template',
        checks: [
          { question: 'Is there a cup in the picture?', tag: 'object' },
          { question: 'Is the cup red?', tag: 'color' },
        ],
      },
    ]);
    expect(
      of('reflect.stage', jobId)
        .map((s) => s.stage)
        .slice(0, 3),
    ).toEqual(['listing-checks', 'generating', 'checking']);
    expect(session.rounds.length).toBeGreaterThanOrEqual(1);
    expect(['done', 'max-rounds', 'no-progress', 'repeated-failures']).toContain(session.stopReason);
    expect(session.rounds.map((r) => r.id)).toContain(session.bestRoundId);
    for (const round of session.rounds) {
      const image = images.get(round.outputImage!)!;
      expect(sha256(image.bytes)).toBe(round.outputImage);
      expect(readRecipe(image.bytes)).toMatchObject({
        prompt: round.text,
        seed: round.seed,
        steps: 2,
        inputImages: round.inputImages,
      });
      for (const c of round.checklist)
        expect(c.probability === null || (c.probability >= 0 && c.probability <= 1)).toBe(true);
    }
    expectStorable(session, images);
    const [done] = of('job.finished', jobId);
    const best = session.rounds.find((r) => r.id === session.bestRoundId)!;
    expect(done!.images.map((i) => sha256(i.png))).toEqual([best.outputImage]);
  });

  test("continue from here: the user's fix edits the chosen round, and the new round joins the session", async () => {
    const round0 = first.session.rounds[0]!;
    const { session, images } = await reflect(
      request({
        maxRevisions: 1,
        continueFrom: {
          session: first.session,
          roundId: round0.id,
          image: first.images.get(round0.outputImage!)!,
          fix: 'Make the cup red.',
        },
      }),
    );
    expect(session.id).toBe(first.session.id);
    expect(session.rounds.slice(0, first.session.rounds.length)).toEqual(first.session.rounds);
    const added = session.rounds.slice(first.session.rounds.length);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      parentId: round0.id,
      mode: 'edit',
      text: 'Make the cup red.',
      inputImages: [round0.outputImage],
      parameters: { imageGuidance: 1.5 },
    });
    expectStorable(session, new Map([...first.images, ...images]));
  });

  test('accept stops the job at once and delivers the best round so far', async () => {
    let jobId = '';
    onEmit = (e) => {
      if (e.event === 'reflect.round' && e.payload.jobId === jobId && e.payload.image)
        setTimeout(() => reflections.accept(queue, jobId), 0);
    };
    jobId = reflections.submit(queue, request({ maxRevisions: 5, threshold: 1 }));
    await queue.idle();
    onEmit = () => {};
    const [finished] = of('reflect.finished', jobId);
    expect(finished!.session.stopReason).toBe('user');
    expect(finished!.session.rounds.length).toBeLessThan(6);
    expect(of('job.failed', jobId)).toMatchObject([{ error: { code: 'cancelled' } }]);
    expect(() => reflections.accept(queue, jobId)).toThrow(expect.objectContaining({ code: 'not-found' }));
  });

  test('continuing from a round the session does not have is an invalid request', () => {
    expect(() =>
      reflections.submit(
        queue,
        request({
          continueFrom: {
            session: first.session,
            roundId: 'nope',
            image: { hash: 'a'.repeat(64), bytes: new Uint8Array(1) },
            fix: null,
          },
        }),
      ),
    ).toThrow(expect.objectContaining({ code: 'invalid-request' }));
  });
});
