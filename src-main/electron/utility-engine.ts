import { utilityProcess } from 'electron';
import { EngineError } from '../engine/engine-error.ts';
import { EngineClient } from '../engine/host/engine-client.ts';
import type { FromEngine, ToEngine } from '../engine/host/protocol.ts';

/**
 * The engine host as an Electron utilityProcess: inference blocks its thread and may crash natively
 * (tech-notes.md §1.7–1.8), and neither may take the window down with it.
 */
export function startUtilityEngine(entry: string): EngineClient {
  const child = utilityProcess.fork(entry, [], { serviceName: 'Atelier engine', stdio: 'inherit' });
  const listeners: ((m: FromEngine) => void)[] = [];
  const client = new EngineClient(
    { post: (m: ToEngine) => child.postMessage(m), onMessage: (l) => listeners.push(l) },
    async () => { child.kill(); },
  );
  child.on('message', (m: FromEngine) => listeners.forEach((l) => l(m)));
  child.on('exit', (code) => client.failAll(new EngineError('internal', `the engine process stopped (exit code ${code})`)));
  return client;
}
