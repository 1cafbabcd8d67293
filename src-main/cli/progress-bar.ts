import type { EngineProgress } from '../engine/host/protocol.ts';
import type { CliContext } from './command.ts';

export interface ProgressState {
  label: string;
  done: number;
  total: number;
  /** Formats done/total (e.g. bytes or steps). */
  unit?: 'bytes' | 'steps';
  ratePerSec?: number;
  etaMs?: number | null;
}

/** A sampling job's engine progress as a bar: `working` while denoising, "Loading" before. */
export function stepProgress(p: EngineProgress, working: string): ProgressState {
  return {
    label: p.stage === 'denoising' ? working : 'Loading',
    done: p.step,
    total: p.total,
    unit: 'steps',
    etaMs: p.etaMs,
  };
}

const BAR = 24;

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = s % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    : `${m}:${String(sec).padStart(2, '0')}`;
}

export function renderProgress(p: ProgressState): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(frac * BAR);
  const amount = p.unit === 'bytes' ? `${formatBytes(p.done)}/${formatBytes(p.total)}` : `${p.done}/${p.total}`;
  const rate =
    p.ratePerSec !== undefined
      ? p.unit === 'bytes'
        ? ` ${formatBytes(p.ratePerSec)}/s`
        : ` ${p.ratePerSec.toFixed(2)}/s`
      : '';
  const eta = p.etaMs != null ? ` ETA ${formatDuration(p.etaMs)}` : '';
  return `${p.label} [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${amount}${rate}${eta}`;
}

/** A progress line on stderr: redrawn in place on a terminal, printed at most every few seconds otherwise. */
export class ProgressBar {
  private lastPrint = 0;
  private drawn = false;
  constructor(
    private readonly ctx: CliContext,
    private readonly minIntervalMs = 2000,
  ) {}

  update(p: ProgressState): void {
    if (this.ctx.interactive) {
      this.ctx.stderr(`\r${renderProgress(p)}\x1b[K`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPrint >= this.minIntervalMs || p.done >= p.total) {
      this.lastPrint = now;
      this.ctx.stderr(`${renderProgress(p)}\n`);
    }
  }

  finish(): void {
    if (this.drawn) this.ctx.stderr('\n');
    this.drawn = false;
  }
}
