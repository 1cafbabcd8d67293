import { describe, expect, test } from 'vitest';
import type { ChatRequest } from '../../../src-main/ipc/contract.ts';
import { ChatState } from '../../../src-renderer/src/lib/chat/chat-state.svelte.ts';
import { ImageStore } from '../../../src-renderer/src/lib/workspace/image-store.ts';
import { fakeApi, fakeCodec, fakePng } from './fakes.ts';

const answer = (text: string) => ({
  text,
  wantsImage: text.startsWith('<|img|>'),
  stopReason: 'stop-token' as const,
  promptTokens: 9,
  newTokens: 3,
  firstTokenMs: 1,
  decodeMs: 2,
});

async function setup() {
  const requests: ChatRequest[] = [];
  let next = 0;
  const fake = fakeApi({
    jobs: {
      chat: async (req) => {
        requests.push(req);
        return { ok: true, value: `chat-${++next}` };
      },
      cancel: async () => ({ ok: true, value: undefined }),
    },
  });
  const images = new ImageStore(fakeCodec);
  const image = await images.add(fakePng(8, 8, 1), 'image/png');
  const chat = new ChatState(fake.api, images, () => new Date('2026-12-01T10:00:00Z'));
  const off = chat.connect();
  const changes: boolean[] = [];
  chat.onChange = (finished) => changes.push(finished);
  return { chat, fake, requests, image, off, changes };
}

describe('ChatState', () => {
  test('a question streams into one answer; the live region speaks once, when it is complete', async () => {
    const { chat, fake, requests, image } = await setup();
    await chat.send('tiny', 'What is in image 1?', [image.hash]);
    expect(requests[0]).toMatchObject({ model: 'tiny', turns: [{ role: 'user', text: 'What is in image 1?' }] });
    expect(requests[0]!.images).toHaveLength(1);
    expect(chat.busy).toBe(true);
    fake.emit('chat.text', { jobId: 'chat-1', piece: 'A red ' });
    fake.emit('chat.text', { jobId: 'other-job', piece: 'ignored' });
    fake.emit('chat.text', { jobId: 'chat-1', piece: 'ball' });
    expect(chat.current!.messages.at(-1)!.text).toBe('A red ball');
    expect(chat.announcement).toBe('');
    fake.emit('job.finished', { jobId: 'chat-1', images: [], chat: answer('A red ball.') });
    expect(chat.busy).toBe(false);
    expect(chat.current!.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'What is in image 1?'],
      ['assistant', 'A red ball.'],
    ]);
    expect(chat.announcement).toBe('Answer: A red ball.');
    expect(chat.current!.images).toEqual([image.hash]);
  });

  test('the earlier turns go with a follow-up', async () => {
    const { chat, fake, requests } = await setup();
    await chat.send('tiny', 'Hi', []);
    fake.emit('job.finished', { jobId: 'chat-1', images: [], chat: answer('Hello.') });
    await chat.send('tiny', 'And now?', []);
    expect(requests[1]!.turns).toEqual([
      { role: 'user', text: 'Hi' },
      { role: 'assistant', text: 'Hello.' },
      { role: 'user', text: 'And now?' },
    ]);
  });

  test('stop keeps what was written and marks the answer stopped; a stop before the id is known waits for it', async () => {
    const { chat, fake } = await setup();
    const sending = chat.send('tiny', 'Tell a story', []);
    void chat.stop(); // jobs.chat has not answered yet
    await sending;
    expect(fake.calls.filter((c) => c.method === 'jobs.cancel').map((c) => c.args[0])).toEqual(['chat-1']);
    fake.emit('chat.text', { jobId: 'chat-1', piece: 'Once upon' });
    fake.emit('job.failed', { jobId: 'chat-1', error: { code: 'cancelled', message: 'the answer was cancelled' } });
    const last = chat.current!.messages.at(-1)!;
    expect([last.text, last.stopped, chat.busy, chat.announcement]).toEqual([
      'Once upon',
      true,
      false,
      'The answer was stopped.',
    ]);
  });

  test('regenerate replaces the last answer with a new one to the same question', async () => {
    const { chat, fake, requests } = await setup();
    await chat.send('tiny', 'Name a colour', []);
    fake.emit('job.finished', { jobId: 'chat-1', images: [], chat: answer('Red.') });
    await chat.regenerate('tiny', []);
    expect(requests[1]!.turns).toEqual([{ role: 'user', text: 'Name a colour' }]);
    fake.emit('job.finished', { jobId: 'chat-2', images: [], chat: answer('Blue.') });
    expect(chat.current!.messages.map((m) => m.text)).toEqual(['Name a colour', 'Blue.']);
  });

  test('draw this: the request with the conversation before it goes to the picture job; its result is linked', async () => {
    const { chat, fake, changes } = await setup();
    await chat.send('tiny', 'What is in image 2?', []);
    fake.emit('job.finished', { jobId: 'chat-1', images: [], chat: answer('A sofa.') });
    const asked: unknown[] = [];
    await chat.draw('Put the cat on it.', [], async (history, request) => {
      asked.push({ history, request });
      return 'job-7';
    });
    expect(asked).toEqual([
      {
        history: [
          { role: 'user', text: 'What is in image 2?' },
          { role: 'assistant', text: 'A sofa.' },
        ],
        request: 'Put the cat on it.',
      },
    ]);
    expect(chat.pending).toMatchObject({ kind: 'draw', drawKey: 'job-7' });
    chat.drawSettled('job-8', { resultId: 'x' }); // another job: ignored
    expect(chat.busy).toBe(true);
    chat.drawSettled('job-7', { resultId: 'gen-1-0' });
    expect(chat.current!.messages.at(-1)).toMatchObject({ role: 'assistant', text: '<|img|>', resultId: 'gen-1-0' });
    expect(chat.announcement).toBe('The picture is ready.');
    expect(changes.at(-1)).toBe(true);
  });

  test("the model's own <|img|> answer is handed to the studio to draw; a cancelled picture leaves the question in context", async () => {
    const { chat, fake, requests } = await setup();
    const wanted: string[] = [];
    chat.onWantsPicture = (id) => wanted.push(id);
    await chat.send('tiny', 'Draw a cube', []);
    fake.emit('job.finished', { jobId: 'chat-1', images: [], chat: answer('<|img|>') });
    expect(wanted).toEqual([chat.current!.messages.at(-1)!.id]);
    await chat.drawAnswer(wanted[0]!, async () => 'job-1');
    chat.drawSettled('job-1', { error: { code: 'cancelled', message: 'cancelled' } });
    expect(chat.current!.messages.at(-1)).toMatchObject({ stopped: true, resultId: null });
    await chat.send('tiny', 'Never mind', []);
    expect(requests[1]!.turns).toEqual([
      { role: 'user', text: 'Draw a cube' },
      { role: 'user', text: 'Never mind' },
    ]);
  });

  test('a failed answer says why and leaves no empty message; a project replaces the conversations', async () => {
    const { chat, fake } = await setup();
    await chat.send('tiny', 'Hello', []);
    fake.emit('job.failed', {
      jobId: 'chat-1',
      error: { code: 'model-missing', message: 'the model folder has no mllm/ folder' },
    });
    expect(chat.current!.messages.map((m) => m.role)).toEqual(['user']);
    expect(chat.notice).not.toBe(null);
    chat.replace([]);
    expect(chat.current).toBe(null);
  });
});
