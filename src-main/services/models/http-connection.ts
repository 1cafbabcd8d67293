import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/**
 * Where a response body goes: buffers the consumer owns, which the socket reads into directly. node:http hands
 * every socket read over as a fresh 64 KiB Buffer and parses it in JavaScript; at a gigabyte a second that
 * garbage and parsing cost more CPU than the download's sha256 (measured by scripts/bench-download.ts), so file
 * bodies skip it.
 */
export interface BodySink {
  /** Room for the next bytes (they go at its start), or null when there is none until `room()` resolves. */
  space(): Uint8Array | null;
  /** `n` bytes were placed at the start of the last `space()`. */
  commit(n: number): void;
  /** Resolves once `space()` has room again; rejects when the sink failed (a write error). */
  room(): Promise<void>;
  /** Bytes the sink still takes; reading stops there, and the rest of the body is left unread. */
  readonly wanted: number;
}

export interface ResponseHead {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Map<string, string>;
}

/** Connection options that are not part of a URL. */
export interface ConnectOptions {
  /** Certificates to trust besides the system's (a hub behind a private authority; tests). */
  ca?: string | Buffer;
}

// Holds a response head (a pre-signed redirect's Location runs to a few KiB), a chunked body's framing, and the
// bytes of a read that arrived while the sink had no room.
const SCRATCH_BYTES = 64 * 1024;

type Framing = { kind: 'length'; left: number } | { kind: 'chunked'; decoder: ChunkedDecoder } | { kind: 'close' };

/**
 * One HTTP/1.1 connection that sends GET requests one after another and reads each response body straight into a
 * BodySink. Keep-alive is honoured, so the pieces of a file reuse the connection (and its TLS session).
 */
export class HttpConnection {
  readonly origin: string;
  readonly #socket: Socket;
  readonly #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  /** Bytes in scratch not yet consumed: part of a head, chunked body bytes, or body bytes waiting for room. */
  #held = 0;
  #phase: 'idle' | 'head' | 'body' = 'idle';
  #framing: Framing = { kind: 'close' };
  #sink: BodySink | null = null;
  #lastSpace: Uint8Array | null = null;
  /** Where in scratch the socket's next read goes: `held` may have shrunk since (bytes were drained). */
  #scratchAt = 0;
  #onRead: (() => void) | null = null;
  #waiting: { resolve(): void; reject(e: unknown): void } | null = null;
  #headWaiter: { resolve(h: ResponseHead): void; reject(e: unknown): void } | null = null;
  #error: unknown = null;
  #ended = false;
  #keepAlive = false;
  /** Bytes of the current response received so far: a reused connection that fails before any may be retried. */
  received = 0;

  private constructor(url: URL, opts: ConnectOptions) {
    this.origin = url.origin;
    const secure = url.protocol === 'https:';
    const port = Number(url.port || (secure ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const onread = { buffer: () => this.#nextBuffer(), callback: (n: number, buf: Uint8Array) => this.#onData(n, buf) };
    this.#socket = secure
      ? // @types/node leaves `onread` out of TLS options; tls.connect hands it to the socket it dials (node ≥ 15.8).
        tlsConnect({
          host,
          port,
          servername: isIP(host) ? undefined : host,
          onread,
          ...(opts.ca ? { ca: opts.ca } : {}),
        } as ConnectionOptions)
      : netConnect({ host, port, onread });
    this.#socket.setNoDelay(true);
    this.#socket.on('error', (e) => this.#fail(e));
    this.#socket.on('end', () => this.#onEnd());
    this.#socket.on('close', () => this.#onEnd());
  }

  static open(url: URL, opts: ConnectOptions = {}): HttpConnection {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported protocol in ${url.origin}`);
    return new HttpConnection(url, opts);
  }

  /** True when the last response was read to its end and both sides keep the connection open. */
  get reusable(): boolean {
    return this.#phase === 'idle' && this.#keepAlive && !this.#ended && this.#error === null;
  }

  /** Sends a GET and resolves with the response head; the body is then read with `readBody` or the connection closed. */
  request(url: URL, headers: Record<string, string>): Promise<ResponseHead> {
    if (this.#phase !== 'idle' || this.#ended || this.#error) throw new Error('connection is not ready for a request');
    this.#phase = 'head';
    this.#held = 0;
    this.received = 0;
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
    const names = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
    if (!names.has('accept-encoding')) lines.push('Accept-Encoding: identity');
    if (!names.has('connection')) lines.push('Connection: keep-alive');
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    const head = new Promise<ResponseHead>((resolve, reject) => (this.#headWaiter = { resolve, reject }));
    this.#socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    this.#socket.resume();
    return head;
  }

  /**
   * Reads the body into `sink` until the body ends or the sink wants no more; `onRead` hears of every read (for a
   * stall watchdog). Rejects when the connection closes before a body of known length is complete.
   */
  readBody(sink: BodySink, onRead?: () => void): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#phase !== 'body') throw new Error('no response body to read');
    this.#sink = sink;
    this.#onRead = onRead ?? null;
    const done = new Promise<void>((resolve, reject) => (this.#waiting = { resolve, reject }));
    try {
      // Bytes that came with the head.
      this.#drainHeld();
      if (this.#settle()) this.#socket.resume();
    } catch (e) {
      this.#fail(e);
    }
    return done;
  }

  /** Closes the connection; a request or body read in progress rejects with an AbortError. */
  close(): void {
    this.#fail(Object.assign(new Error(`connection to ${this.origin} closed`), { name: 'AbortError' }));
  }

  /** The socket calls this after every read, for where the next read goes. */
  #nextBuffer(): Uint8Array {
    this.#lastSpace = null;
    const space = this.#phase === 'body' && this.#framing.kind !== 'chunked' && this.#held === 0 && this.#sink?.space();
    const limit = Math.min(
      this.#sink?.wanted ?? 0,
      this.#framing.kind === 'length' ? this.#framing.left : Number.POSITIVE_INFINITY,
    );
    if (space && limit > 0) {
      this.#lastSpace = space.subarray(0, Math.min(space.byteLength, limit));
      return this.#lastSpace;
    }
    this.#scratchAt = this.#held;
    return this.#scratch.subarray(this.#held);
  }

  /** Returns false to pause the socket: while the sink has no room, and before a response's body is asked for. */
  #onData(n: number, buf: Uint8Array): boolean {
    this.received += n;
    this.#onRead?.();
    try {
      if (buf === this.#lastSpace && this.#sink) {
        this.#sink.commit(n);
        if (this.#framing.kind === 'length') this.#framing.left -= n;
      } else {
        if (this.#scratchAt !== this.#held) this.#scratch.copyWithin(this.#held, this.#scratchAt, this.#scratchAt + n);
        this.#held += n;
        if (this.#phase === 'head') this.#parseHead();
        else if (this.#phase === 'body') this.#drainHeld();
        // Read as the answer to the next request, it would be taken for one (a server's 408 on idle timeout).
        else throw new Error(`${this.origin} sent ${n} bytes while no request was waiting`);
      }
      return this.#settle();
    } catch (e) {
      // Thrown out of this callback it would be an uncaught exception in the socket's read path.
      this.#fail(e);
      return false;
    }
  }

  /** After bytes arrived or room appeared: finishes the body, or pauses until the sink has room. */
  #settle(): boolean {
    if (this.#phase !== 'body' || !this.#sink || !this.#waiting) return this.#phase === 'head';
    // Bytes past a framed body's end never stay held (#drainHeld drops them).
    if (this.#atBodyEnd() || (this.#framing.kind === 'close' && this.#ended && this.#held === 0)) {
      this.#finishBody();
      // An idle kept-alive connection keeps reading, so that a server closing it or talking out of turn makes it
      // unusable before a request is sent on it.
      return this.#keepAlive;
    }
    if (this.#sink.wanted <= 0) {
      // The sink has what it asked for; the unread rest of the body makes the connection unusable.
      this.#keepAlive = false;
      this.#finishBody();
      this.#socket.destroy();
      return false;
    }
    if (this.#sink.space() === null) {
      this.#sink.room().then(
        () => {
          try {
            this.#drainHeld();
            if (this.#settle()) this.#socket.resume();
          } catch (e) {
            this.#fail(e);
          }
        },
        (e: unknown) => this.#fail(e),
      );
      return false;
    }
    if (this.#ended) {
      this.#fail(this.#closedError());
      return false;
    }
    return true;
  }

  /** Whether a body that states its own end (length or chunked) has been read to it. */
  #atBodyEnd(): boolean {
    const f = this.#framing;
    return (f.kind === 'length' && f.left === 0) || (f.kind === 'chunked' && f.decoder.done);
  }

  #finishBody(): void {
    this.#phase = 'idle';
    this.#sink = null;
    this.#onRead = null;
    const w = this.#waiting;
    this.#waiting = null;
    w?.resolve();
  }

  /** Moves held body bytes into the sink, decoding chunked framing, as far as the sink has room. */
  #drainHeld(): void {
    const sink = this.#sink;
    if (!sink || this.#held === 0) return;
    let from: number;
    const put = (bytes: Uint8Array): number => {
      let taken = 0;
      while (taken < bytes.byteLength && sink.wanted > 0) {
        const space = sink.space();
        if (!space) break;
        const n = Math.min(space.byteLength, bytes.byteLength - taken, sink.wanted);
        space.set(bytes.subarray(taken, taken + n));
        sink.commit(n);
        taken += n;
      }
      return taken;
    };
    const framing = this.#framing;
    if (framing.kind === 'chunked') {
      from = framing.decoder.feed(this.#scratch.subarray(0, this.#held), put);
    } else {
      const limit = framing.kind === 'length' ? framing.left : Infinity;
      from = put(this.#scratch.subarray(0, Math.min(this.#held, limit)));
      if (framing.kind === 'length') framing.left -= from;
    }
    if (this.#atBodyEnd() && from < this.#held) {
      // Bytes after the end of the body: the server and this client disagree on where answers end.
      this.#keepAlive = false;
      from = this.#held;
    } else if (sink.wanted <= 0) from = this.#held;
    this.#scratch.copyWithin(0, from, this.#held);
    this.#held -= from;
  }

  #parseHead(): void {
    for (;;) {
      const end = this.#scratch.subarray(0, this.#held).indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#held === SCRATCH_BYTES) this.#fail(new Error(`response head from ${this.origin} over 64 KiB`));
        return;
      }
      let head: ResponseHead & { version: string };
      try {
        head = parseHead(this.#scratch.toString('latin1', 0, end));
      } catch (e) {
        this.#fail(e);
        return;
      }
      this.#scratch.copyWithin(0, end + 4, this.#held);
      this.#held -= end + 4;
      // 1xx answers precede the real one.
      if (head.status >= 100 && head.status < 200) continue;
      const connection = (head.headers.get('connection') ?? '').toLowerCase();
      this.#keepAlive = head.version === '1.1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
      try {
        this.#framing = framingOf(head);
      } catch (e) {
        this.#fail(e);
        return;
      }
      if (this.#framing.kind === 'close') this.#keepAlive = false;
      this.#phase = 'body';
      const w = this.#headWaiter;
      this.#headWaiter = null;
      w?.resolve({ status: head.status, headers: head.headers });
      return;
    }
  }

  #onEnd(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#phase === 'head') this.#fail(this.#closedError());
    else if (this.#phase === 'body' && this.#waiting) {
      try {
        this.#drainHeld();
        this.#settle();
      } catch (e) {
        this.#fail(e);
      }
    }
  }

  #closedError(): Error {
    const what = this.#phase === 'head' ? 'before answering' : `${this.received} bytes into the response`;
    return Object.assign(new Error(`${this.origin} closed the connection ${what}`), { code: 'ECONNRESET' });
  }

  #fail(e: unknown): void {
    this.#error ??= e;
    this.#keepAlive = false;
    this.#socket.destroy();
    const head = this.#headWaiter;
    const body = this.#waiting;
    this.#headWaiter = null;
    this.#waiting = null;
    head?.reject(this.#error);
    body?.reject(this.#error);
  }
}

function parseHead(text: string): ResponseHead & { version: string } {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const m = /^HTTP\/(1\.[01]) (\d{3})(?: .*)?$/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP/1.x response: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed response header: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const before = headers.get(name);
    headers.set(name, before === undefined ? value : `${before}, ${value}`);
  }
  return { version: m[1]!, status: Number(m[2]), headers };
}

/** How the body's end is known (RFC 9112 §6.3), for a response to GET. */
function framingOf(head: ResponseHead): Framing {
  if (head.status === 204 || head.status === 304) return { kind: 'length', left: 0 };
  const te = head.headers.get('transfer-encoding');
  if (te) {
    if (!/(^|,)\s*chunked\s*$/i.test(te)) return { kind: 'close' };
    return { kind: 'chunked', decoder: new ChunkedDecoder() };
  }
  const cl = head.headers.get('content-length');
  if (cl === undefined) return { kind: 'close' };
  const values = new Set(cl.split(',').map((v) => v.trim()));
  const [only] = values;
  if (values.size !== 1 || !/^\d{1,16}$/.test(only!)) throw new Error(`invalid Content-Length: ${cl}`);
  return { kind: 'length', left: Number(only) };
}

/** Decodes `Transfer-Encoding: chunked` incrementally; `feed` returns how many input bytes it consumed. */
class ChunkedDecoder {
  #state: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  #left = 0;
  done = false;

  feed(input: Buffer, put: (data: Uint8Array) => number): number {
    let at = 0;
    while (at < input.byteLength && !this.done) {
      if (this.#state === 'data') {
        const n = put(input.subarray(at, at + Math.min(this.#left, input.byteLength - at)));
        at += n;
        this.#left -= n;
        if (this.#left > 0) return at;
        this.#state = 'data-end';
        continue;
      }
      const eol = input.subarray(at).indexOf('\r\n');
      if (eol < 0) {
        if (input.byteLength - at > 4096) throw new Error('malformed chunked body: a line over 4 KiB');
        return at;
      }
      const line = input.toString('latin1', at, at + eol);
      at += eol + 2;
      if (this.#state === 'data-end') {
        if (line !== '') throw new Error('malformed chunked body: data longer than its chunk size');
        this.#state = 'size';
      } else if (this.#state === 'size') {
        const m = /^([0-9a-fA-F]{1,12})(?:\s*;.*)?$/.exec(line);
        if (!m) throw new Error(`malformed chunk size: ${JSON.stringify(line.slice(0, 40))}`);
        this.#left = parseInt(m[1]!, 16);
        this.#state = this.#left === 0 ? 'trailer' : 'data';
      } else if (line === '') this.done = true;
    }
    return at;
  }
}
