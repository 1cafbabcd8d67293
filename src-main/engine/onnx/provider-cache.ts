import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExecutionProvider } from './providers.ts';

/** Why a provider could not be used, as remembered between runs. */
export interface RememberedFailure {
  readonly error: string;
  readonly detail: string | null;
  /** ISO time of the probe that failed. */
  readonly at: string;
}

interface CacheFile {
  readonly format: 1;
  /** App version, onnxruntime version, OS and CPU: a change of any of them can change what works. */
  readonly key: string;
  readonly failures: Partial<Record<ExecutionProvider, RememberedFailure>>;
}

/**
 * The providers that failed their probe on this machine, kept in a small JSON file (under userData) so the next
 * start does not spend a probe, or risk a driver crash, on them again. Only failures are kept: a provider that
 * works is probed again each start, which is cheap. The file is a cache: an unreadable or foreign one is ignored
 * and replaced, and entries written under another key (app or onnxruntime upgraded, profile copied to another
 * machine) are forgotten.
 */
export class ProviderCache {
  private failures: Partial<Record<ExecutionProvider, RememberedFailure>>;

  private constructor(
    private readonly file: string | null,
    private readonly key: string,
    failures: CacheFile['failures'],
  ) {
    this.failures = failures;
  }

  /** `file` null: remember nothing across runs (tests, a CLI run without a profile folder). */
  static open(file: string | null, key: string): ProviderCache {
    if (file === null) return new ProviderCache(null, key, {});
    let parsed: Partial<CacheFile> | null = null;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheFile>;
    } catch {
      // missing or damaged: start empty, the next write replaces it
    }
    const valid =
      parsed !== null &&
      parsed.format === 1 &&
      parsed.key === key &&
      typeof parsed.failures === 'object' &&
      parsed.failures !== null;
    return new ProviderCache(file, key, valid ? { ...parsed!.failures } : {});
  }

  failure(provider: ExecutionProvider): RememberedFailure | null {
    return this.failures[provider] ?? null;
  }

  remember(provider: ExecutionProvider, failure: RememberedFailure): void {
    this.failures = { ...this.failures, [provider]: failure };
    this.save();
  }

  forget(provider: ExecutionProvider): void {
    if (!(provider in this.failures)) return;
    this.failures = Object.fromEntries(Object.entries(this.failures).filter(([name]) => name !== provider));
    this.save();
  }

  /** Forget every failure (the user asked to detect again). */
  clear(): void {
    this.failures = {};
    this.save();
  }

  /** Atomic (temp file + rename); a failed write only costs a probe next time, so it is not an error. */
  private save(): void {
    if (this.file === null) return;
    const body: CacheFile = { format: 1, key: this.key, failures: this.failures };
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(tmp, `${JSON.stringify(body, null, 1)}\n`);
      renameSync(tmp, this.file);
    } catch {
      rmSync(tmp, { force: true });
    }
  }
}
