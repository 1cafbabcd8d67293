import type { ProviderCache } from './provider-cache.ts';
import type { ProviderProbe } from './provider-probe.ts';
import type { SessionOptions } from './session.ts';

/** The onnxruntime execution providers Atelier can run on (tech-notes.md §1.1). */
export type ExecutionProvider = 'cuda' | 'dml' | 'coreml' | 'webgpu' | 'cpu';
/** What settings and `--provider` may ask for: a provider, or `auto` (the fallback chain). */
export type ProviderPreference = 'auto' | ExecutionProvider;
export const PROVIDER_PREFERENCES: readonly ProviderPreference[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'];

export const PROVIDER_LABELS: Readonly<Record<ExecutionProvider, string>> = {
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'Core ML',
  webgpu: 'WebGPU',
  cpu: 'CPU',
};

export interface ProviderAttempt {
  readonly provider: ExecutionProvider;
  readonly ok: boolean;
  /** Why it is not used, in words; null when ok. */
  readonly error: string | null;
  /** onnxruntime's message (and the probe's stderr), for logs. */
  readonly detail: string | null;
  /** The failure was remembered from an earlier run rather than probed now. */
  readonly cached: boolean;
  /** Ops that would run on the CPU node by node under this provider. */
  readonly cpuOps: readonly string[];
}

export interface ProviderSelection {
  readonly provider: ExecutionProvider;
  readonly preference: ProviderPreference;
  /** Short and for people: "CUDA provider libraries are not installed", "requested". */
  readonly reason: string;
  readonly tried: readonly ProviderAttempt[];
}

/** What a job or the app asks for; plain data, so it crosses the engine host boundary. */
export interface ProviderRequest {
  readonly preference: ProviderPreference;
  /** JSON file remembering failed providers (under userData); absent: nothing is remembered across runs. */
  readonly cacheFile?: string | null;
  /** Part of the cache key: an app upgrade may change the graphs and so what a provider can run. */
  readonly appVersion?: string;
  /** Ignore remembered failures and probe again (after installing a driver or the CUDA libraries). */
  readonly refresh?: boolean;
}

/** A requested provider that cannot run here. Never replaced by another one silently. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly code = 'unsupported';
  constructor(
    message: string,
    readonly detail: Record<string, string>,
  ) {
    super(message);
  }
}

export interface PlatformInfo {
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  /** `listSupportedBackends()` of the loaded binding. */
  readonly backends: readonly string[];
}

/**
 * Preferred order per OS; the CPU closes every chain. Which providers each binding has is tech-notes.md §1.1.
 * - Linux x64: CUDA first (cuBLAS, ~790 TFLOP/s bf16 on an H200, against ~55 measured through WebGPU, §1.7),
 *   then WebGPU. Linux arm64 ships the CPU provider only.
 * - Windows: DirectML, then WebGPU. DirectML is in maintenance mode but is the non-experimental GPU provider
 *   of the 1.30 binding; WebGPU is marked experimental there. The probe decides when DirectML cannot run our ops.
 * - macOS: WebGPU (Metal), then Core ML. Core ML's operator list has no MultiHeadAttention, RMSNormalization or
 *   Softmax, so our graphs would split between Core ML and the CPU; it stays a candidate for when WebGPU fails.
 * Providers the binding does not list are dropped (so no `cuda` on Linux arm64).
 */
export function fallbackChain(p: PlatformInfo): ExecutionProvider[] {
  const order: ExecutionProvider[] =
    p.platform === 'linux'
      ? ['cuda', 'webgpu']
      : p.platform === 'win32'
        ? ['dml', 'webgpu']
        : p.platform === 'darwin'
          ? ['webgpu', 'coreml']
          : [];
  return [...order.filter((e) => p.backends.includes(e)), 'cpu'];
}

/** How the WebGPU provider keeps freed storage buffers (docs/gpu.md: the levers and the measured peaks). */
export type WebGpuCacheMode = 'simple' | 'bucket' | 'lazyRelease' | 'disabled';

/**
 * The WebGPU provider's options. `simple` reuses freed buffers of exactly the same size and never trims its
 * pool: our graphs have static shapes per job, so the second layer reuses the first layer's buffers instead of
 * the bucket cache's round-up-and-release (docs/gpu.md, L2). The mode is fixed by the first WebGPU session
 * of the process and silently ignored after that (§2.3), so every WebGPU session must be created with these options.
 * `wgpuOnly` skips onnxruntime's error scope around each run (Dawn still validates; `disabled` could crash the process).
 */
export function webGpuProviderOptions(cacheMode: WebGpuCacheMode = 'simple') {
  return { name: 'webgpu', storageBufferCacheMode: cacheMode, validationMode: 'wgpuOnly' } as const;
}

/** Session options that put a graph on `provider` (only `deviceId` reaches CUDA/DirectML from Node, §1.1). */
export function executionProvidersFor(provider: ExecutionProvider): NonNullable<SessionOptions['executionProviders']> {
  switch (provider) {
    case 'cuda':
      return [{ name: 'cuda', deviceId: 0 }];
    case 'dml':
      return [{ name: 'dml', deviceId: 0 }];
    case 'coreml':
      return [{ name: 'coreml' }];
    case 'webgpu':
      return [webGpuProviderOptions()];
    case 'cpu':
      return ['cpu'];
  }
}

export interface SelectionDeps {
  readonly platform: PlatformInfo;
  readonly probe: ProviderProbe;
  readonly openCache: (file: string | null, key: string) => ProviderCache;
  readonly ortVersion: string;
  readonly now: () => Date;
}

/**
 * Chooses the provider for `request`. `auto` walks the fallback chain: a provider whose probe runs all of
 * Atelier's ops wins; failing that, the first one that runs but hands some ops to the CPU (they are listed in
 * the reason); failing that, the CPU. A named provider is probed (even if remembered as failed) and used, or
 * a ProviderError says why not: it is never replaced by another one.
 */
export async function selectProvider(request: ProviderRequest, deps: SelectionDeps): Promise<ProviderSelection> {
  const { platform } = deps;
  const key = `atelier ${request.appVersion ?? 'dev'} / onnxruntime ${deps.ortVersion} / ${platform.platform}-${platform.arch}`;
  const cache = deps.openCache(request.cacheFile ?? null, key);
  if (request.refresh) cache.clear();
  const probe = async (provider: ExecutionProvider): Promise<ProviderAttempt> => {
    const report = await deps.probe(provider);
    if (report.ok) cache.forget(provider);
    else
      cache.remember(provider, {
        error: report.error ?? 'failed',
        detail: report.detail,
        at: deps.now().toISOString(),
      });
    return {
      provider,
      ok: report.ok,
      error: report.error,
      detail: report.detail,
      cached: false,
      cpuOps: report.cpuOps,
    };
  };

  if (request.preference !== 'auto') return selectNamed(request.preference, platform, probe);
  const tried: ProviderAttempt[] = [];
  for (const provider of fallbackChain(platform)) {
    if (provider === 'cpu') break;
    const remembered = cache.failure(provider);
    const attempt = remembered
      ? { provider, ok: false, error: remembered.error, detail: remembered.detail, cached: true, cpuOps: [] }
      : await probe(provider);
    tried.push(attempt);
    if (attempt.ok && attempt.cpuOps.length === 0) break;
  }
  const chosen = tried.find((a) => a.ok && a.cpuOps.length === 0) ?? tried.find((a) => a.ok);
  // The CPU needs no probe: every graph of the engine is tested on it.
  if (!chosen) tried.push({ provider: 'cpu', ok: true, error: null, detail: null, cached: false, cpuOps: [] });
  return {
    provider: chosen?.provider ?? 'cpu',
    preference: 'auto',
    reason: autoReason(chosen ?? null, tried, platform),
    tried,
  };
}

async function selectNamed(
  provider: ExecutionProvider,
  platform: PlatformInfo,
  probe: (p: ExecutionProvider) => Promise<ProviderAttempt>,
): Promise<ProviderSelection> {
  const label = PROVIDER_LABELS[provider];
  if (!fallbackChain(platform).includes(provider)) {
    throw new ProviderError(
      `${label} was requested, but onnxruntime has no ${label} provider for ${platform.platform} ${platform.arch}; choose Automatic or one of: ${fallbackChain(
        platform,
      )
        .map((p) => PROVIDER_LABELS[p])
        .join(', ')}`,
      { provider },
    );
  }
  if (provider === 'cpu')
    return {
      provider,
      preference: provider,
      reason: 'requested',
      tried: [{ provider, ok: true, error: null, detail: null, cached: false, cpuOps: [] }],
    };
  const attempt = await probe(provider);
  if (!attempt.ok) {
    throw new ProviderError(
      `${label} was requested but cannot be used: ${attempt.error}. Choose Automatic to fall back to another provider.`,
      { provider, error: attempt.error ?? '', ...(attempt.detail ? { onnxruntime: attempt.detail } : {}) },
    );
  }
  const reason = attempt.cpuOps.length > 0 ? `requested; ${cpuOpsText(attempt.cpuOps)}` : 'requested';
  return { provider, preference: provider, reason, tried: [attempt] };
}

function autoReason(chosen: ProviderAttempt | null, tried: readonly ProviderAttempt[], platform: PlatformInfo): string {
  const failed = tried
    .filter((a) => a.provider !== chosen?.provider && a.provider !== 'cpu')
    .map((a) =>
      a.ok
        ? `${PROVIDER_LABELS[a.provider]}: ${cpuOpsText(a.cpuOps)}`
        : (a.error ?? `${PROVIDER_LABELS[a.provider]} failed`),
    );
  if (chosen?.cpuOps.length) failed.push(cpuOpsText(chosen.cpuOps));
  if (failed.length > 0) return failed.join('; ');
  if (chosen) return `the fastest provider available on ${platform.platform}`;
  return `onnxruntime offers no GPU provider for ${platform.platform} ${platform.arch}`;
}

const cpuOpsText = (ops: readonly string[]) => `${ops.join(', ')} would run on the CPU`;

/** "Running on WebGPU (CUDA provider libraries are not installed)": what the app and the CLI show. */
export function selectionSummary(s: Pick<ProviderSelection, 'provider' | 'reason'>): string {
  return `Running on ${PROVIDER_LABELS[s.provider]} (${s.reason})`;
}

/** The failure cache's file name inside the user-data folder. */
export const PROVIDER_CACHE_FILE = 'provider-cache.json';
