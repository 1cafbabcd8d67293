import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EngineError } from '../engine-error.ts';
import { EngineClient } from './engine-client.ts';
import type { FromEngine, ToEngine } from './protocol.ts';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The engine host as a worker thread (CLI and tests, which run from TypeScript sources: the worker boots
 * through tsx). The desktop app uses a utilityProcess instead (src-main/electron/utility-engine.ts).
 */
export function startWorkerEngine(): EngineClient {
  const worker = new Worker(join(here, 'worker-boot.mjs'), { workerData: { entry: join(here, 'worker-entry.ts') } });
  const listeners: ((m: FromEngine) => void)[] = [];
  const client = new EngineClient(
    { post: (m: ToEngine) => worker.postMessage(m), onMessage: (l) => listeners.push(l) },
    async () => {
      await worker.terminate();
    },
  );
  worker.on('message', (m: FromEngine) => listeners.forEach((l) => l(m)));
  worker.on('error', (e) => client.failAll(new EngineError('internal', `the engine stopped: ${e.message}`)));
  worker.on('exit', (code) => client.failAll(new EngineError('internal', `the engine exited (code ${code})`)));
  return client;
}
