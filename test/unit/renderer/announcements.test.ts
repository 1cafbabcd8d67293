import { describe, expect, test } from 'vitest';
import { progressAnnouncement, resultAnnouncement } from '../../../src-renderer/src/lib/jobs/announcements.ts';
import type { GenerationJob } from '../../../src-renderer/src/lib/jobs/generation-queue.svelte.ts';

const job = (o: Partial<GenerationJob>): GenerationJob => ({
  key: 'k',
  jobId: 'j',
  label: 'a red car',
  model: 'm',
  spec: {} as GenerationJob['spec'],
  phase: 'running',
  step: 0,
  total: 50,
  etaMs: null,
  stage: 'denoising',
  previewUrl: null,
  error: null,
  cancelRequested: false,
  ...o,
});

describe('screen-reader announcements', () => {
  test('a 50-step run is read at the quarters, not at every step', () => {
    const texts = Array.from({ length: 51 }, (_, step) => progressAnnouncement(job({ step })));
    const read = texts.filter((text, i) => text !== texts[i - 1]); // a live region reads a text when it changes
    expect(read).toEqual([
      'Generating: Drawing, 0%',
      'Generating: Drawing, 25%',
      'Generating: Drawing, 50%',
      'Generating: Drawing, 75%',
      'Generating: Drawing, 100%',
    ]);
  });

  test('a new stage is read once; nothing is read when no job runs', () => {
    expect(progressAnnouncement(job({ stage: 'loading', step: 0, total: 1 }))).toBe(
      'Generating: Loading the model, 0%',
    );
    expect(progressAnnouncement(job({ phase: 'queued' }))).toBe('');
    expect(progressAnnouncement(null)).toBe('');
  });

  test('the end of a run is one text, different for each run even with the same prompt', () => {
    expect(resultAnnouncement([job({ phase: 'running' })], 0)).toBe('');
    expect(resultAnnouncement([job({ phase: 'done' })], 1)).toBe('Done: a red car. 1 result in History.');
    expect(resultAnnouncement([job({ phase: 'done' }), job({ key: 'k2', phase: 'done' })], 2)).toBe(
      'Done: a red car. 2 results in History.',
    );
    expect(resultAnnouncement([job({ phase: 'done' }), job({ key: 'k2', phase: 'cancelled' })], 1)).toBe(
      'Cancelled: a red car',
    );
  });
});
