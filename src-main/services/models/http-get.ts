import { HttpConnection, type BodySink, type ConnectOptions } from './http-connection.ts';

export interface HttpResponse {
  status: number;
  /** Where the answer came from, after redirects. */
  url: string;
  header(name: string): string | null;
  /** Reads the body into `sink` (once), or call discard(); `onRead` hears of every socket read. */
  readBody(sink: BodySink, onRead?: () => void): Promise<void>;
  discard(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Idle keep-alive connections by origin, shared by the requests of one download so that its pieces do not each
 * pay a TCP and TLS handshake. close() ends them all.
 */
export class ConnectionPool {
  readonly #idle = new Map<string, HttpConnection[]>();
  #closed = false;

  constructor(readonly options: ConnectOptions = {}) {}

  take(url: URL): { connection: HttpConnection; reused: boolean } {
    const idle = this.#idle.get(url.origin);
    for (let c = idle?.pop(); c; c = idle?.pop()) if (c.reusable) return { connection: c, reused: true };
    return { connection: HttpConnection.open(url, this.options), reused: false };
  }

  give(connection: HttpConnection): void {
    if (this.#closed || !connection.reusable) return connection.close();
    const idle = this.#idle.get(connection.origin) ?? [];
    idle.push(connection);
    this.#idle.set(connection.origin, idle);
  }

  close(): void {
    this.#closed = true;
    for (const idle of this.#idle.values()) for (const c of idle) c.close();
    this.#idle.clear();
  }
}

/**
 * GET that follows redirects like fetch does, for file bodies, read straight into the caller's buffers (see
 * BodySink). No compression is asked for, so ranges always address raw file bytes. Without a pool the connection
 * closes after the body.
 */
export async function httpGet(
  url: string,
  opts: { headers?: Record<string, string>; signal?: AbortSignal; maxRedirects?: number; pool?: ConnectionPool } = {},
): Promise<HttpResponse> {
  const pool = opts.pool ?? new ConnectionPool();
  const release = (c: HttpConnection) => (opts.pool ? pool.give(c) : c.close());
  let current = new URL(url);
  let headers = { ...opts.headers };
  for (let hops = 0; ; hops++) {
    const { connection, status, headers: answer } = await send(current, headers, pool, opts.signal);
    const location = answer.get('location');
    if (!REDIRECTS.has(status) || !location) {
      const onAbort = () => connection.close();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => opts.signal?.removeEventListener('abort', onAbort);
      return {
        status,
        url: current.href,
        header: (name) => answer.get(name.toLowerCase()) ?? null,
        readBody: (sink, onRead) =>
          connection.readBody(sink, onRead).then(
            () => {
              done();
              release(connection);
            },
            (e: unknown) => {
              done();
              connection.close();
              throw e;
            },
          ),
        discard: () => {
          done();
          connection.close();
        },
      };
    }
    // A redirect's body is a line of text: cheaper to drop the connection than to read it.
    connection.close();
    if (hops >= (opts.maxRedirects ?? 10))
      throw new Error(`more than ${opts.maxRedirects ?? 10} redirects from ${url}`);
    const next = new URL(location, current);
    // As in fetch: credentials never follow a redirect to another origin (the hub's CDN links are pre-signed).
    if (next.origin !== current.origin)
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    current = next;
  }
}

async function send(
  url: URL,
  headers: Record<string, string>,
  pool: ConnectionPool,
  signal: AbortSignal | undefined,
): Promise<{ connection: HttpConnection; status: number; headers: Map<string, string> }> {
  for (;;) {
    signal?.throwIfAborted();
    const { connection, reused } = pool.take(url);
    const onAbort = () => connection.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const head = await connection.request(url, headers);
      return { connection, ...head };
    } catch (e) {
      connection.close();
      // A kept-alive connection that the server closed while it was idle fails before any byte: use a fresh one.
      if (reused && connection.received === 0 && !signal?.aborted) continue;
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
