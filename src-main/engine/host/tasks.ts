import type { TaskContext } from './engine-server.ts';
import { runProbe } from './probe-task.ts';
import type { EngineTask } from './protocol.ts';
import { runChatJob } from '../pipeline/chat-job.ts';
import { runGenerateJob } from '../pipeline/generate-job.ts';
import { ModelSet } from '../pipeline/model-set.ts';
import { runReflectJob } from '../pipeline/reflection/reflect-job.ts';

/** The engine host's loaded models, shared by every job it runs; the provider choice is made once and shared too. */
const models = new ModelSet();

/** Dispatches an engine task to its implementation. */
export async function runTask(task: EngineTask, ctx: TaskContext): Promise<unknown> {
  switch (task.kind) {
    case 'probe':
      return runProbe(task.size, task.runs, ctx);
    case 'generate':
      return runGenerateJob(task.job, models, ctx);
    case 'providers':
      return models.providers.select(task.request);
    case 'reflect':
      return runReflectJob(task.job, models, ctx);
    case 'chat':
      return runChatJob(task.job, models, ctx);
  }
}
