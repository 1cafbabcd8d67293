import { randomUUID } from 'node:crypto';
import type { Engine } from '../../engine/host/engine-client.ts';
import { selectionSummary, type ProviderRequest, type ProviderSelection } from '../../engine/onnx/providers.ts';
import type { ProviderStatus, Settings } from '../../ipc/contract.ts';

export interface ProviderStatusDeps {
  engine: Engine;
  settings: () => Settings;
  /** The failure cache under userData; null remembers nothing across starts (headless tests). */
  cacheFile: string | null;
  appVersion: string;
}

/**
 * The app's view of the provider choice. The engine host makes it (it owns onnxruntime); the answer is kept
 * here so that asking again while a long job occupies the engine does not wait for that job. A new preference
 * in settings, or `refresh`, asks the engine again.
 */
export class ProviderStatusService {
  private last: { preference: Settings['provider']; status: Promise<ProviderStatus> } | null = null;

  constructor(private readonly deps: ProviderStatusDeps) {}

  /** What a job carries: the preference from settings and where failures are remembered. */
  request(refresh = false): ProviderRequest {
    const { cacheFile, appVersion } = this.deps;
    return { preference: this.deps.settings().provider, cacheFile, appVersion, ...(refresh ? { refresh } : {}) };
  }

  status(refresh: boolean): Promise<ProviderStatus> {
    const preference = this.deps.settings().provider;
    if (this.last && !refresh && this.last.preference === preference) return this.last.status;
    const status = this.deps.engine
      .run(`providers-${randomUUID()}`, { kind: 'providers', request: this.request(refresh) })
      .then((result) => toProviderStatus(result as ProviderSelection));
    const entry = { preference, status };
    this.last = entry;
    status.catch(() => {
      if (this.last === entry) this.last = null;
    });
    return status;
  }
}

export function toProviderStatus(s: ProviderSelection): ProviderStatus {
  return {
    provider: s.provider,
    preference: s.preference,
    reason: s.reason,
    summary: selectionSummary(s),
    tried: s.tried.map((a) => ({
      provider: a.provider,
      ok: a.ok,
      error: a.error,
      detail: a.detail,
      cached: a.cached,
      cpuOps: [...a.cpuOps],
    })),
  };
}
