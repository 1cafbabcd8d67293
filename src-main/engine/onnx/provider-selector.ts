import * as ort from 'onnxruntime-node';
import { ProviderCache } from './provider-cache.ts';
import { childProcessProbe } from './provider-probe.ts';
import {
  executionProvidersFor,
  selectProvider,
  type PlatformInfo,
  type ProviderRequest,
  type ProviderSelection,
  type SelectionDeps,
} from './providers.ts';

/** This process's OS, CPU and the providers its onnxruntime binding lists. */
export function currentPlatform(): PlatformInfo {
  return { platform: process.platform, arch: process.arch, backends: ort.listSupportedBackends().map((b) => b.name) };
}

/** The real machine: onnxruntime's binding, probes in a child process, the cache file on disk. */
export function machineSelectionDeps(): SelectionDeps {
  return {
    platform: currentPlatform(),
    probe: childProcessProbe({ executionProviders: executionProvidersFor }),
    openCache: ProviderCache.open,
    ortVersion: ort.env.versions.node ?? 'unknown',
    now: () => new Date(),
  };
}

/**
 * The engine host's provider choice: made once per request and reused by every job (a probe spawns a process),
 * until a request asks to refresh. A failed choice (a requested provider that cannot run) is not kept, so a retry
 * after fixing the cause probes again.
 */
export class ProviderSelector {
  private readonly selections = new Map<string, Promise<ProviderSelection>>();

  constructor(private readonly deps: () => SelectionDeps = machineSelectionDeps) {}

  select(request: ProviderRequest): Promise<ProviderSelection> {
    const key = JSON.stringify([request.preference, request.cacheFile ?? null, request.appVersion ?? null]);
    const known = this.selections.get(key);
    if (known && !request.refresh) return known;
    const pending = selectProvider(request, this.deps());
    this.selections.set(key, pending);
    pending.catch(() => {
      if (this.selections.get(key) === pending) this.selections.delete(key);
    });
    return pending;
  }
}
