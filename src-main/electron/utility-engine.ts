import { utilityProcess } from 'electron';
import { EngineError } from '../engine/engine-error.ts';
import { EngineClient } from '../engine/host/engine-client.ts';
import type { FromEngine, ToEngine } from '../engine/host/protocol.ts';
import { openEngineLog } from '../services/runtime/engine-log.ts';

/** The engine process's own output, under `<userData>/logs/`. */
export const ENGINE_LOG_FILE = 'engine.log';

/**
 * The engine host as an Electron utilityProcess: inference blocks its thread and may crash natively
 * (tech-notes.md §1.7–1.8), and neither may take the window down with it. Its stdout and stderr (onnxruntime's and
 * the GPU driver's own lines, written natively) are appended to `logFile` (kept small, engine-log.ts); what users
 * see comes over IPC.
 */
export function startUtilityEngine(entry: string, logFile: string): EngineClient {
  const log = openEngineLog(logFile);
  const child = utilityProcess.fork(entry, [], { serviceName: 'Atelier engine', stdio: 'pipe' });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const listeners: ((m: FromEngine) => void)[] = [];
  const client = new EngineClient(
    { post: (m: ToEngine) => child.postMessage(m), onMessage: (l) => listeners.push(l) },
    async () => {
      child.kill();
    },
  );
  child.on('message', (m: FromEngine) => listeners.forEach((l) => l(m)));
  child.on('exit', (code) =>
    client.failAll(new EngineError('internal', `the engine process stopped (exit code ${code})`)),
  );
  return client;
}
