import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  status: number;
  /** Where the answer came from, after redirects. */
  url: string;
  header(name: string): string | null;
  /** Read it once, or call discard(). */
  body: AsyncIterable<Uint8Array>;
  discard(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET that follows redirects like fetch does, for file bodies. node:http hands over socket buffers directly; fetch's
 * web streams cost about a third more CPU per byte (measured by scripts/bench-download.ts), which shows on a
 * 16 GB download competing with other work. No Accept-Encoding is sent, so ranges always address raw file bytes.
 */
export async function httpGet(
  url: string,
  opts: { headers?: Record<string, string>; signal?: AbortSignal; maxRedirects?: number } = {},
): Promise<HttpResponse> {
  let current = new URL(url);
  let headers = { ...opts.headers };
  for (let hops = 0; ; hops++) {
    const res = await send(current, headers, opts.signal);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || !location) {
      return {
        status: res.statusCode ?? 0,
        url: current.href,
        header: (name) => headerValue(res.headers, name),
        body: res,
        discard: () => res.destroy(),
      };
    }
    res.resume();
    if (hops >= (opts.maxRedirects ?? 10))
      throw new Error(`more than ${opts.maxRedirects ?? 10} redirects from ${url}`);
    const next = new URL(location, current);
    // As in fetch: credentials never follow a redirect to another origin (the hub's CDN links are pre-signed).
    if (next.origin !== current.origin)
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    current = next;
  }
}

function send(url: URL, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : null;
  if (!request) return Promise.reject(new Error(`unsupported protocol in ${url.origin}`));
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ...(signal ? { signal } : {}) }, resolve);
    req.on('error', reject);
    req.end();
  });
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : (v ?? null);
}
