import { METHODS, invokeChannel, type Contract, type IpcError, type Result } from './contract.ts';
import { toIpcError } from './errors.ts';

/** Anything shaped like Electron's ipcMain: the app, the unit tests and the headless e2e bridge all pass one. */
export interface IpcLike {
  handle(channel: string, handler: (event: unknown, ...args: unknown[]) => unknown): void;
}

export type ArgParsers = { [N in keyof Contract]: { [M in keyof Contract[N]]: (raw: unknown[]) => unknown[] } };

/**
 * Registers one handler per contract method. Payloads are checked before the service sees them; every throw
 * (bad payload or service failure) becomes `{ ok: false, error }`, so the renderer always gets a typed answer.
 */
export function registerHandlers(
  ipc: IpcLike,
  services: Contract,
  parsers: ArgParsers,
  onUnexpected: (error: unknown, channel: string) => void = () => {},
): void {
  for (const ns of Object.keys(METHODS) as (keyof Contract)[]) {
    const methods = services[ns] as unknown as Record<string, (...a: unknown[]) => Promise<Result<unknown>>>;
    const nsParsers = parsers[ns] as unknown as Record<string, (raw: unknown[]) => unknown[]>;
    for (const method of Object.keys(METHODS[ns])) {
      const channel = invokeChannel(ns, method);
      ipc.handle(channel, async (_event, ...raw): Promise<Result<unknown>> => {
        try {
          return await methods[method]!.apply(services[ns], nsParsers[method]!(raw));
        } catch (e) {
          const error: IpcError = toIpcError(e);
          if (error.code === 'internal') onUnexpected(e, channel);
          return { ok: false, error };
        }
      });
    }
  }
}

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
