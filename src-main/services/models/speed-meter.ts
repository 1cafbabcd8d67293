/**
 * Bytes per second over a sliding window. A window (not the average since start) follows a changing connection
 * and recovers after a pause; a few seconds is long enough not to jitter with every chunk.
 */
export class SpeedMeter {
  #samples: { at: number; bytes: number }[] = [];
  #total = 0;

  constructor(
    private readonly windowMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Record newly received bytes (never bytes that were already on disk). */
  add(bytes: number): void {
    if (bytes <= 0) return;
    const now = this.now();
    if (this.#samples.length === 0) this.#samples.push({ at: now, bytes: 0 });
    this.#total += bytes;
    this.#samples.push({ at: now, bytes: this.#total });
    while (this.#samples.length > 2 && this.#samples[1]!.at <= now - this.windowMs) this.#samples.shift();
  }

  bytesPerSec(): number {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || !last) return 0;
    // Measured up to now, not up to the last byte, so a stalled transfer shows its speed falling instead of freezing.
    return ((last.bytes - first.bytes) * 1000) / Math.max(this.now() - first.at, 250);
  }

  /** Milliseconds until `remaining` bytes at the current speed; null while the speed is unknown. */
  etaMs(remaining: number): number | null {
    const speed = this.bytesPerSec();
    return speed > 0 ? Math.round((remaining * 1000) / speed) : remaining === 0 ? 0 : null;
  }
}
