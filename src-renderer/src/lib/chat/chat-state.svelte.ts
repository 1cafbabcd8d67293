import type {
  AtelierApi,
  ChatMessage,
  ChatTurnText,
  Conversation,
  Events,
  ImageHash,
  IpcError,
  JobId,
} from '../../../../src-main/ipc/contract.ts';
import { t } from '../i18n/i18n.svelte.ts';
import { describeError, type Notice } from '../shell/error-messages.ts';
import type { ImageStore } from '../workspace/image-store.ts';

/** The token with which the model asks for a picture (§7.1). */
export const IMG_TOKEN = '<|img|>';

/** The answer being streamed or the picture being drawn; one at a time, as the engine runs one job at a time. */
export interface ChatPending {
  readonly messageId: string;
  readonly kind: 'answer' | 'draw';
  jobId: JobId | null;
  /** The generation queue's key of a picture job (GenerationQueue.submit). */
  drawKey: string | null;
  stopRequested: boolean;
}

/** What a picture request needs from the studio: submitting it to the generation queue returns the queue's key. */
export type DrawSubmit = (history: ChatTurnText[], request: string) => Promise<string | null>;

let nextId = 0;
const newId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(++nextId).toString(36)}`;

/**
 * The conversation in the Chat panel (§7.1): questions about the input images answered token by token by the
 * engine host, stop, regenerate, and pictures drawn from the conversation with chat-mode conditioning (§2.2). Owns
 * the conversations of the project; the renderer's only user of the chat IPC.
 */
export class ChatState {
  conversations = $state<Conversation[]>([]);
  /** The message being written (kept here so that keys anywhere in the panel act on it). */
  draft = $state('');
  pending = $state<ChatPending | null>(null);
  notice = $state<Notice | null>(null);
  /** Text for the aria-live region: set once when an answer is complete (never per token). */
  announcement = $state('');
  /** A change to save; `finished`: an answer or a picture just completed (written at once). */
  onChange?: (finished: boolean) => void;
  /** The model answered with `<|img|>` (its own decision, §7.1): the studio draws the picture into that answer. */
  onWantsPicture?: (messageId: string) => void;
  readonly current = $derived(this.conversations.at(-1) ?? null);
  readonly busy = $derived(this.pending !== null);
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- failures held for jobs not yet named; nothing renders them
  readonly #early = new Map<JobId, Events['job.failed']>();

  constructor(
    private readonly api: AtelierApi,
    private readonly images: ImageStore,
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a timestamp read once, never mutated
    private readonly now: () => Date = () => new Date(),
  ) {}

  connect(): () => void {
    const offs = [
      this.api.on('chat.text', ({ jobId, piece }) => this.#piece(jobId, piece)),
      this.api.on('job.finished', ({ jobId, chat }) => {
        if (chat) this.#finished(jobId, chat.text);
      }),
      this.api.on('job.failed', (payload) => this.#failed(payload)),
    ];
    return () => offs.forEach((off) => off());
  }

  /** The conversation as the model reads it: every message up to `upTo` (exclusive), pictures as the model's `<|img|>`. */
  turns(upTo?: number): ChatTurnText[] {
    const messages = this.current?.messages.slice(0, upTo) ?? [];
    // A picture that was never made is no answer; the question before it stays.
    return messages
      .filter(
        (m) =>
          m.role === 'user' || (m.text !== '' && !(m.stopped && m.text.startsWith(IMG_TOKEN) && m.resultId === null)),
      )
      .map((m) => ({ role: m.role, text: m.text }));
  }

  /** Asks the model; the answer streams into a new assistant message. */
  async send(model: string, text: string, inputs: readonly ImageHash[]): Promise<void> {
    const question = text.trim();
    if (question === '' || this.busy) return;
    this.#append('user', question, inputs);
    await this.#ask(model, inputs);
  }

  /** Regenerate: the last answer is replaced by a new one to the same question. */
  async regenerate(model: string, inputs: readonly ImageHash[]): Promise<void> {
    const c = this.current;
    if (this.busy || !c || c.messages.at(-1)?.role !== 'assistant' || c.messages.at(-1)!.resultId !== null) return;
    c.messages.pop();
    await this.#ask(model, inputs);
  }

  /** "Draw this": the message (or, when empty, the last question) answered with a picture (§7.1 step 3). */
  async draw(text: string, inputs: readonly ImageHash[], submit: DrawSubmit): Promise<void> {
    if (this.busy) return;
    const request = text.trim();
    const last = this.current?.messages.at(-1);
    const lastQuestion = this.current?.messages.findLast((m) => m.role === 'user');
    if (request === '' && !lastQuestion) return;
    if (request !== '') this.#append('user', request, inputs);
    else if (last?.role !== 'user') this.#append('user', lastQuestion!.text, inputs);
    await this.#drawInto(this.#append('assistant', IMG_TOKEN, inputs), submit);
  }

  /** The model's own decision (a reply starting with `<|img|>`): draw into that answer. */
  async drawAnswer(messageId: string, submit: DrawSubmit): Promise<void> {
    const answer = this.#message(messageId);
    if (this.busy || !answer || !answer.text.startsWith(IMG_TOKEN) || answer.resultId !== null) return;
    answer.stopped = false;
    await this.#drawInto(answer, submit);
  }

  async #drawInto(answer: ChatMessage, submit: DrawSubmit): Promise<void> {
    const index = this.current!.messages.indexOf(answer);
    const history = this.turns(index);
    const asked = history.pop()!;
    const pending: ChatPending = {
      messageId: answer.id,
      kind: 'draw',
      jobId: null,
      drawKey: null,
      stopRequested: false,
    };
    this.pending = pending;
    const key = await submit(history, asked.text);
    if (this.pending?.messageId !== answer.id) return;
    if (!key) {
      answer.stopped = true;
      this.pending = null;
      return;
    }
    this.pending.drawKey = key;
  }

  /** The picture job settled (GenerationQueue): link its result, or say it was cancelled or failed. */
  drawSettled(key: string, outcome: { resultId: string } | { error: IpcError }): void {
    const p = this.pending;
    if (!p || p.drawKey !== key) return;
    const message = this.#message(p.messageId);
    this.pending = null;
    if (!message) return;
    if ('resultId' in outcome) {
      message.resultId = outcome.resultId;
      this.announcement = t('chat.announce.pictureReady');
    } else {
      message.stopped = true;
      this.announcement =
        outcome.error.code === 'cancelled' ? t('chat.announce.pictureCancelled') : t('chat.announce.pictureFailed');
    }
    this.onChange?.(true);
  }

  /** Stop: the answer keeps what was streamed so far. */
  async stop(): Promise<void> {
    const p = this.pending;
    if (!p || p.kind !== 'answer') return;
    p.stopRequested = true;
    if (!p.jobId) return; // stopped as soon as main names it
    const r = await this.api.jobs.cancel(p.jobId);
    if (!r.ok && r.error.code !== 'not-found') this.notice = describeError(r.error, t('doing.stopAnswer'));
  }

  newConversation(inputs: readonly ImageHash[]): void {
    if (this.busy || this.current?.messages.length === 0) return;
    this.conversations.push({
      id: newId('chat'),
      createdAt: this.now().toISOString(),
      images: [...inputs],
      messages: [],
    });
    this.onChange?.(false);
  }

  /** A project opened: its conversations. */
  replace(conversations: readonly Conversation[]): void {
    this.conversations = conversations.map((c) => ({
      ...c,
      images: [...c.images],
      messages: c.messages.map((m) => ({ ...m })),
    }));
    this.pending = null;
  }

  async #ask(model: string, inputs: readonly ImageHash[]): Promise<void> {
    const turns = this.turns();
    const answer = this.#append('assistant', '', inputs);
    const pending: ChatPending = {
      messageId: answer.id,
      kind: 'answer',
      jobId: null,
      drawKey: null,
      stopRequested: false,
    };
    this.pending = pending;
    const images = inputs.map((h) => this.images.require(h).bytes);
    const r = await this.api.jobs.chat({ model, turns, images });
    const live = this.pending?.messageId === answer.id ? this.pending : null;
    if (!r.ok) {
      this.#drop(answer.id);
      if (live) this.pending = null;
      this.notice = describeError(r.error, t('doing.askModel'));
      return;
    }
    if (!live) return;
    live.jobId = r.value;
    const early = this.#early.get(r.value);
    this.#early.delete(r.value);
    if (early) this.#failed(early);
    else if (live.stopRequested) await this.stop();
  }

  #piece(jobId: JobId, piece: string): void {
    const p = this.pending;
    if (!p || p.kind !== 'answer' || (p.jobId !== null && p.jobId !== jobId)) return;
    p.jobId ??= jobId; // the first pieces can come before jobs.chat answers with the id
    const message = this.#message(p.messageId);
    if (message) message.text += piece;
  }

  #finished(jobId: JobId, text: string): void {
    const p = this.pending;
    if (!p || p.kind !== 'answer' || (p.jobId !== null && p.jobId !== jobId)) return;
    const message = this.#message(p.messageId);
    this.pending = null;
    if (message) message.text = text;
    this.announcement = text.startsWith(IMG_TOKEN)
      ? t('chat.announce.wantsPicture')
      : t('chat.announce.answer', { text });
    this.onChange?.(true);
    if (message && text.startsWith(IMG_TOKEN)) this.onWantsPicture?.(message.id);
  }

  #failed(payload: Events['job.failed']): void {
    const p = this.pending;
    if (!p || p.kind !== 'answer') return;
    if (p.jobId === null) {
      this.#early.set(payload.jobId, payload);
      return;
    }
    if (p.jobId !== payload.jobId) return;
    const message = this.#message(p.messageId);
    this.pending = null;
    if (payload.error.code === 'cancelled') {
      if (message) message.stopped = true;
      this.announcement = t('chat.announce.stopped');
    } else {
      if (message && message.text === '') this.#drop(message.id);
      this.notice = describeError(payload.error, t('doing.askModel'));
    }
    this.onChange?.(true);
  }

  #append(role: ChatMessage['role'], text: string, inputs: readonly ImageHash[]): ChatMessage {
    if (!this.current)
      this.conversations.push({ id: newId('chat'), createdAt: this.now().toISOString(), images: [], messages: [] });
    const c = this.current!;
    c.images = [...inputs];
    c.messages.push({ id: newId('msg'), role, text, at: this.now().toISOString(), stopped: false, resultId: null });
    this.onChange?.(false);
    return c.messages.at(-1)!;
  }

  #message(id: string): ChatMessage | undefined {
    return this.current?.messages.find((m) => m.id === id);
  }

  #drop(id: string): void {
    const c = this.current;
    if (c) c.messages = c.messages.filter((m) => m.id !== id);
  }
}
