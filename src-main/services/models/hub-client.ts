import { ModelError, cancelled } from './model-error.ts';
import { checkRepoId, checkRepoPath, checkRevision } from './repo-id.ts';
import { withRetry, type RetryPolicy } from './retry.ts';
import type { ExpectedFile } from './verify.ts';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubOptions {
  /** https://huggingface.co or a mirror speaking the same protocol (HF_ENDPOINT). */
  endpoint: string;
  /** Access token for gated/private repositories. Sent only to the endpoint's own origin, never logged. */
  token?: string;
  fetch?: typeof fetch;
  /** For API requests (listing, revision); file transfers have their own policy. */
  retry?: RetryPolicy;
  /** Limit for one API request (listing page, revision lookup). */
  requestTimeoutMs?: number;
}

export interface RepoListing {
  repo: string;
  revision: string;
  /** The commit the revision pointed at; files are fetched from it, so a push mid-download cannot mix versions. */
  commit: string;
  files: ExpectedFile[];
}

const MAX_PAGES = 1000;
// Listing requests give up sooner than file transfers (≈ 7 s): an unreachable endpoint here is more often a typo
// or no network at all, and the person is waiting for the download to start.
const LISTING_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 8000 };

export class HubClient {
  readonly endpoint: string;
  readonly fetch: typeof fetch;
  readonly retry: RetryPolicy;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(opts: HubOptions) {
    this.endpoint = checkEndpoint(opts.endpoint);
    this.#token = opts.token?.trim() || undefined;
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.retry = opts.retry ?? LISTING_RETRY;
    this.#timeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  /** Headers for a request to `url`: the token goes only to the endpoint's origin (a paginated or redirected
   *  URL on another host must not receive it; fetch also drops it on cross-origin redirects). */
  headersFor(url: string): Record<string, string> {
    const sameOrigin = new URL(url).origin === new URL(this.endpoint).origin;
    return this.#token && sameOrigin ? { authorization: `Bearer ${this.#token}` } : {};
  }

  fileUrl(repo: string, revision: string, path: string): string {
    const encodedPath = checkRepoPath(path).split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${checkRepoId(repo)}/resolve/${encodeURIComponent(checkRevision(revision))}/${encodedPath}`;
  }

  /** Commit sha of a branch or tag (a full sha is returned unchanged). */
  async resolveCommit(repo: string, revision: string, signal?: AbortSignal): Promise<string> {
    if (/^[0-9a-f]{40}$/.test(checkRevision(revision))) return revision;
    const url = `${this.endpoint}/api/models/${checkRepoId(repo)}/revision/${encodeURIComponent(revision)}`;
    const { body } = await this.getJson(url, `revision "${revision}" of ${repo}`, signal);
    const sha = (body as { sha?: unknown })?.sha;
    if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha))
      throw new ModelError('bad-response', `${url} did not return a commit sha`, { url });
    return sha;
  }

  /** Every file of the repository at `revision` with size and checksum, following the Link header's pages. */
  async listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<ExpectedFile[]> {
    let url: string | null =
      `${this.endpoint}/api/models/${checkRepoId(repo)}/tree/${encodeURIComponent(checkRevision(revision))}?recursive=true`;
    const files: ExpectedFile[] = [];
    const seen = new Set<string>();
    while (url) {
      if (seen.has(url) || seen.size >= MAX_PAGES)
        throw new ModelError('bad-response', `the listing of ${repo} does not end (page ${seen.size})`, { url });
      seen.add(url);
      const { body, next } = await this.getJson(url, `${repo} at ${revision}`, signal);
      if (!Array.isArray(body)) throw new ModelError('bad-response', `${url} did not return a file list`, { url });
      for (const entry of body) {
        const file = parseTreeEntry(entry, url);
        if (file) files.push(file);
      }
      url = next;
    }
    if (files.length === 0)
      throw new ModelError('not-found', `${repo} at ${revision} has no files`, { repo, revision });
    return files;
  }

  async listing(repo: string, revision: string, signal?: AbortSignal): Promise<RepoListing> {
    const commit = await this.resolveCommit(repo, revision, signal);
    return { repo, revision, commit, files: await this.listFiles(repo, commit, signal) };
  }

  private getJson(url: string, what: string, signal?: AbortSignal): Promise<{ body: unknown; next: string | null }> {
    return withRetry(
      async () => {
        const res = await this.request(url, signal);
        if (!res.ok) {
          await res.body?.cancel();
          throw httpError(res.status, url, what);
        }
        const body: unknown = await res.json().catch((e: unknown) => {
          throw new ModelError('bad-response', `${url} did not return JSON`, { url }, { cause: e });
        });
        return { body, next: nextLink(res.headers.get('link'), url) };
      },
      this.retry,
      { signal },
    );
  }

  private async request(url: string, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    try {
      return await this.fetch(url, {
        headers: { accept: 'application/json', ...this.headersFor(url) },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      if (signal?.aborted) throw cancelled('the hub request');
      throw networkError(e, url);
    }
  }
}

/** Maps an HTTP status to a typed error; 408/429/5xx are retryable. */
export function httpError(status: number, url: string, what: string): ModelError {
  const detail = { status, url };
  if (status === 401 || status === 403) {
    return new ModelError(
      'unauthorized',
      `the hub refused access to ${what} (HTTP ${status}); if the repository is gated or private, accept its terms on the hub and provide an access token (HF_TOKEN)`,
      detail,
    );
  }
  if (status === 404)
    return new ModelError('not-found', `${what} was not found (HTTP 404 from ${new URL(url).origin})`, detail);
  if (status === 408 || status === 429 || status >= 500)
    return new ModelError('network', `the server answered HTTP ${status} for ${what}`, detail);
  return new ModelError('bad-response', `unexpected HTTP ${status} for ${what}`, detail);
}

export function networkError(e: unknown, url: string): ModelError {
  // fetch wraps the socket error in `cause`; node:http reports it directly.
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const why = err?.cause?.code ?? err?.cause?.message ?? err?.code ?? err?.message ?? String(e);
  return new ModelError('network', `cannot reach ${new URL(url).origin}: ${why}`, { url }, { cause: e });
}

function checkEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ModelError('invalid-request', `"${endpoint}" is not a URL (expected e.g. ${DEFAULT_ENDPOINT})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ModelError('invalid-request', `hub endpoint must be http(s): ${endpoint}`);
  if (url.username || url.password)
    throw new ModelError('invalid-request', 'put the access token in HF_TOKEN, not in the endpoint URL');
  return endpoint.replace(/\/+$/, '');
}

/** `Link: <https://…?cursor=…>; rel="next"` as the hub sends it (RFC 8288). */
export function nextLink(header: string | null, base: string): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (m && /\brel="?next"?/i.test(m[2]!)) return new URL(m[1]!, base).toString();
  }
  return null;
}

const SHA256 = /^[0-9a-f]{64}$/;
const GIT_OID = /^[0-9a-f]{40}$/;

/** One entry of `/api/models/{repo}/tree/{rev}`: directories are skipped, files must carry a size and a checksum. */
function parseTreeEntry(entry: unknown, url: string): ExpectedFile | null {
  const e = entry as {
    type?: unknown;
    path?: unknown;
    size?: unknown;
    oid?: unknown;
    lfs?: { oid?: unknown; size?: unknown } | null;
  };
  if (e?.type === 'directory') return null;
  const bad = (why: string) =>
    new ModelError('bad-response', `${url}: listing entry ${JSON.stringify(entry).slice(0, 200)} ${why}`, { url });
  if (e?.type !== 'file' || typeof e.path !== 'string') throw bad('is not a file or directory');
  const path = checkRepoPath(e.path);
  const size = e.lfs ? e.lfs.size : e.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad('has no valid size');
  if (e.lfs) {
    const sha256 = typeof e.lfs.oid === 'string' ? e.lfs.oid.replace(/^sha256:/, '').toLowerCase() : '';
    if (!SHA256.test(sha256)) throw bad('has no valid LFS sha256');
    return { path, size, sha256 };
  }
  const gitOid = typeof e.oid === 'string' ? e.oid.toLowerCase() : '';
  if (!GIT_OID.test(gitOid)) throw bad('has no valid git oid');
  return { path, size, gitOid };
}
