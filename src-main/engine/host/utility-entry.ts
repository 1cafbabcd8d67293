// Entry of the Electron utilityProcess. `process.parentPort` exists only there; no `electron` import is needed.
import { serveEngine } from './engine-server.ts';
import type { FromEngine, ToEngine } from './protocol.ts';
import { runTask } from './tasks.ts';

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}
const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!port) throw new Error('utility-entry must run in an Electron utility process');
serveEngine(
  {
    post: (m: FromEngine) => port.postMessage(m),
    onMessage: (l: (m: ToEngine) => void) => port.on('message', (e) => l(e.data as ToEngine)),
  },
  runTask,
);
