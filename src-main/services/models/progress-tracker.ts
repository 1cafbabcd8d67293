import type { DownloadProgress, FileProgress } from '../../ipc/contract.ts';
import { SpeedMeter } from './speed-meter.ts';
import type { ExpectedFile } from './verify.ts';

export type ProgressListener = (p: DownloadProgress) => void;

interface FileState {
  total: number;
  done: number;
  active: boolean;
  finished: boolean;
  meter: SpeedMeter;
}

/**
 * Turns per-file byte counts into the overall picture a person can trust: bytes on disk (resumed bytes included),
 * speed over the last seconds (only bytes received now), ETA, per-file rows. Emits at most every `intervalMs`.
 */
export class DownloadProgressTracker {
  readonly #files = new Map<string, FileState>();
  readonly #meter = new SpeedMeter();
  #notice: string | null = null;
  #lastEmit = 0;

  constructor(
    private readonly repo: string,
    files: readonly ExpectedFile[],
    private readonly listener: ProgressListener | undefined,
    private readonly intervalMs = 250,
    private readonly phase: DownloadProgress['phase'] = 'downloading',
  ) {
    for (const f of files)
      this.#files.set(f.path, { total: f.size, done: 0, active: false, finished: false, meter: new SpeedMeter() });
  }

  start(path: string): void {
    this.#file(path).active = true;
  }

  /** Bytes of `path` on disk now (may go down when a server forces a restart). */
  set(path: string, done: number): void {
    const f = this.#file(path);
    const delta = done - f.done;
    f.done = done;
    if (delta > 0) {
      f.meter.add(delta);
      if (f.active) this.#meter.add(delta);
      this.#notice = null;
    }
    this.#maybeEmit();
  }

  finish(path: string): void {
    const f = this.#file(path);
    f.done = f.total;
    f.active = false;
    f.finished = true;
    this.#maybeEmit();
  }

  notice(text: string): void {
    this.#notice = text;
    this.flush();
  }

  snapshot(): DownloadProgress {
    let doneBytes = 0;
    let totalBytes = 0;
    let filesDone = 0;
    const files: FileProgress[] = [];
    for (const [path, f] of this.#files) {
      doneBytes += f.done;
      totalBytes += f.total;
      if (f.finished) filesDone++;
      if (f.active) {
        const bytesPerSec = f.meter.bytesPerSec();
        files.push({
          path,
          doneBytes: f.done,
          totalBytes: f.total,
          bytesPerSec,
          etaMs: f.meter.etaMs(f.total - f.done),
        });
      }
    }
    return {
      repo: this.repo,
      phase: this.phase,
      doneBytes,
      totalBytes,
      bytesPerSec: this.#meter.bytesPerSec(),
      etaMs: this.#meter.etaMs(totalBytes - doneBytes),
      filesDone,
      fileCount: this.#files.size,
      files,
      notice: this.#notice,
    };
  }

  flush(): void {
    this.#lastEmit = Date.now();
    this.listener?.(this.snapshot());
  }

  #maybeEmit(): void {
    if (Date.now() - this.#lastEmit >= this.intervalMs) this.flush();
  }

  #file(path: string): FileState {
    const f = this.#files.get(path);
    if (!f) throw new Error(`progress for a file outside the listing: ${path}`);
    return f;
  }
}
