/** Fires once when no `touch()` happened for `stallMs`: a connection that stays open but sends nothing is the
 *  silent failure users hate most, and neither TCP nor fetch times it out on its own. */
export class StallWatchdog {
  #last = Date.now();
  #fired = false;
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly stallMs: number,
    onStall: () => void,
  ) {
    this.#timer = setInterval(
      () => {
        if (Date.now() - this.#last < stallMs) return;
        this.#fired = true;
        this.stop();
        onStall();
      },
      Math.max(20, Math.floor(stallMs / 4)),
    );
    this.#timer.unref();
  }

  get fired(): boolean {
    return this.#fired;
  }

  touch(): void {
    this.#last = Date.now();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
