import { parentPort } from 'node:worker_threads';
import { serveEngine } from './engine-server.ts';
import type { FromEngine, ToEngine } from './protocol.ts';
import { runTask } from './tasks.ts';

if (!parentPort) throw new Error('worker-entry must run in a worker thread');
const port = parentPort;
serveEngine(
  { post: (m: FromEngine) => port.postMessage(m), onMessage: (l: (m: ToEngine) => void) => port.on('message', l) },
  runTask,
);
