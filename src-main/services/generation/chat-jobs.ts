import type { ChatAnswer, ChatRequest, JobId } from '../../ipc/contract.ts';
import type { ChatJob, ChatOutcome, ChatReport } from '../../engine/pipeline/chat-job.ts';
import type { Emit, JobQueue } from '../jobs/job-queue.ts';
import { modelFolder } from './generation-jobs.ts';

/** A chat request the model cannot answer as given (its turns do not form a conversation). */
export class ChatRequestError extends Error {
  override readonly name = 'ChatRequestError';
  readonly code = 'invalid-request';
}

/**
 * The app's chat answers (§7.1): queued like every job, answered by the engine host with the MLLM; the pieces of
 * text stream as 'chat.text' events and the whole answer arrives with 'job.finished'.
 */
export class ChatJobs {
  constructor(private readonly deps: { readonly emit: Emit; readonly modelsDir: () => string }) {}

  submit(
    queue: JobQueue,
    req: ChatRequest,
    runtime: Pick<ChatJob, 'provider' | 'memoryMode' | 'weightCacheDir'> = {},
  ): JobId {
    const { turns } = req;
    if (turns.length === 0 || turns[0]!.role !== 'user' || turns.at(-1)!.role !== 'user') {
      throw new ChatRequestError('a conversation starts with a user message and ends with the one to answer');
    }
    if (turns.at(-1)!.text.trim() === '') throw new ChatRequestError('the message to answer is empty');
    const job: ChatJob = {
      modelDir: modelFolder(req.model, this.deps.modelsDir()),
      turns,
      images: req.images,
      ...(req.maxNewTokens !== undefined ? { maxNewTokens: req.maxNewTokens } : {}),
      ...runtime,
    };
    return queue.submit('chat', `Chat: ${turns.at(-1)!.text.slice(0, 70)}`, { kind: 'chat', job }, (result) => ({
      images: [],
      chat: toAnswer(result as ChatOutcome),
    }));
  }

  readonly report = (jobId: string, report: ChatReport): void => {
    this.deps.emit('chat.text', { jobId, piece: report.piece });
  };
}

function toAnswer(o: ChatOutcome): ChatAnswer {
  return {
    text: o.text,
    wantsImage: o.wantsImage,
    stopReason: o.stopReason,
    promptTokens: o.promptTokens,
    newTokens: o.newTokens,
    firstTokenMs: o.firstTokenMs,
    decodeMs: o.decodeMs,
  };
}
