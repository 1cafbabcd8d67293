import { EngineError } from './engine-error.ts';
import type { TaskContext } from './engine-server.ts';
import { runProbe } from './probe-task.ts';
import type { EngineTask } from './protocol.ts';

/** Dispatches an engine task to its implementation. */
export async function runTask(task: EngineTask, ctx: TaskContext): Promise<unknown> {
  switch (task.kind) {
    case 'probe':
      return runProbe(task.size, task.runs, ctx);
    case 'generate':
      throw new EngineError('unsupported', 'image generation is not part of this build yet');
  }
}
