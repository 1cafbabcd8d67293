import { describe, expect, test } from 'vitest';
import type { Engine } from '../../../src-main/engine/host/engine-client.ts';
import type { EngineTask } from '../../../src-main/engine/host/protocol.ts';
import type { Events } from '../../../src-main/ipc/contract.ts';
import { ChatJobs } from '../../../src-main/services/generation/chat-jobs.ts';
import { withTaskReports } from '../../../src-main/services/generation/reflection-jobs.ts';
import { JobQueue } from '../../../src-main/services/jobs/job-queue.ts';

/** An engine that streams two pieces of a chat answer, then answers it. */
function fakeEngine(tasks: EngineTask[]): Engine {
  return {
    async run(_id, task, options = {}) {
      tasks.push(task);
      options.onProgress?.({
        step: 1,
        total: 4,
        stage: 'answering',
        etaMs: null,
        report: { kind: 'chat', piece: 'A red ' },
      });
      options.onProgress?.({
        step: 2,
        total: 4,
        stage: 'answering',
        etaMs: null,
        report: { kind: 'chat', piece: 'ball.' },
      });
      return {
        text: 'A red ball.',
        wantsImage: false,
        stopReason: 'stop-token',
        promptTokens: 20,
        newTokens: 4,
        loadMs: 5,
        firstTokenMs: 3,
        decodeMs: 2,
      };
    },
    dispose: async () => {},
  };
}

describe('chat jobs', () => {
  test('queued as a chat job: pieces become chat.text events, the answer comes with job.finished', async () => {
    const events: { event: keyof Events; payload: unknown }[] = [];
    const emit = <E extends keyof Events>(event: E, payload: Events[E]) => {
      events.push({ event, payload });
    };
    const tasks: EngineTask[] = [];
    const chats = new ChatJobs({ emit, modelsDir: () => '/models' });
    const queue = new JobQueue(
      withTaskReports(fakeEngine(tasks), {
        report: (id, r) => {
          if (r.kind === 'chat') chats.report(id, r);
        },
        failed: () => {},
      }),
      emit,
    );
    const id = chats.submit(
      queue,
      { model: 'tiny', turns: [{ role: 'user', text: 'What is in image 1?' }], images: [], maxNewTokens: 4 },
      { memoryMode: 'all-resident' },
    );
    await queue.idle();
    expect(tasks).toEqual([
      {
        kind: 'chat',
        job: {
          modelDir: '/models/tiny',
          turns: [{ role: 'user', text: 'What is in image 1?' }],
          images: [],
          maxNewTokens: 4,
          memoryMode: 'all-resident',
        },
      },
    ]);
    expect(events.filter((e) => e.event === 'chat.text').map((e) => e.payload)).toEqual([
      { jobId: id, piece: 'A red ' },
      { jobId: id, piece: 'ball.' },
    ]);
    expect(events.find((e) => e.event === 'job.queued')!.payload).toMatchObject({
      job: { kind: 'chat', label: 'Chat: What is in image 1?' },
    });
    expect(events.find((e) => e.event === 'job.finished')!.payload).toEqual({
      jobId: id,
      images: [],
      chat: {
        text: 'A red ball.',
        wantsImage: false,
        stopReason: 'stop-token',
        promptTokens: 20,
        newTokens: 4,
        firstTokenMs: 3,
        decodeMs: 2,
      },
    });
  });

  test('turns that are no conversation to answer are refused before anything runs', () => {
    const chats = new ChatJobs({ emit: () => {}, modelsDir: () => '/models' });
    const queue = new JobQueue(fakeEngine([]), () => {});
    const submit = (turns: { role: 'user' | 'assistant'; text: string }[]) => () =>
      chats.submit(queue, { model: 'tiny', turns, images: [] });
    expect(submit([])).toThrow(expect.objectContaining({ code: 'invalid-request' }));
    expect(
      submit([
        { role: 'assistant', text: 'Hi' },
        { role: 'user', text: 'Hello' },
      ]),
    ).toThrow(/starts with a user message/);
    expect(
      submit([
        { role: 'user', text: 'Hi' },
        { role: 'assistant', text: 'Hello' },
      ]),
    ).toThrow(/ends with the one to answer/);
    expect(submit([{ role: 'user', text: '  ' }])).toThrow(/empty/);
    expect(queue.list()).toEqual([]);
  });
});
