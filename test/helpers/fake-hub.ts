// A local imitation of the Hugging Face hub's HTTP protocol, for the model-manager tests and the download
// benchmark: paginated tree listing with LFS sha256 and git oids, /resolve/ with a redirect to a "CDN" path for LFS
// files, Range requests, and faults injected per file (dropped connection, HTTP errors, stalls, wrong bytes, a
// server that ignores Range). Large files can be generated on the fly instead of being held in memory.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, relative, sep } from 'node:path';

export interface FakeFile {
  path: string;
  /** Stored in LFS (listing carries sha256; resolve redirects to the CDN), like weights on the real hub. */
  lfs: boolean;
  content?: Buffer;
  /** Content generated from a repeating pseudo-random block, for files too big to keep in memory. */
  generatedSize?: number;
}

export type Fault =
  | { kind: 'none' }
  | { kind: 'drop'; afterBytes: number }
  | { kind: 'status'; status: number }
  | { kind: 'stall'; afterBytes: number }
  | { kind: 'corrupt' }
  | { kind: 'ignore-range' }
  /** This response only, at most `bytes` per `everyMs` (a connection the CDN serves slowly). */
  | { kind: 'slow'; bytes: number; everyMs: number };

export interface LoggedRequest {
  kind: 'revision' | 'tree' | 'resolve' | 'cdn' | 'other';
  url: string;
  /** Repository path of the file, for resolve and cdn requests. */
  file: string | null;
  range: string | null;
  authorization: string | null;
  status: number;
}

export const FAKE_COMMIT = 'c0ffee0000000000000000000000000000000042';
const BLOCK = 1 << 20;

interface Served {
  path: string;
  lfs: boolean;
  size: number;
  sha256: string;
  gitOid: string;
  slice(start: number, end: number): Buffer;
}

export class FakeHub {
  readonly requests: LoggedRequest[] = [];
  /** Body bytes written per file path (all requests together). */
  readonly bytesSent = new Map<string, number>();
  readonly #faults = new Map<string, Fault[]>();
  readonly #sockets = new Set<Socket>();
  readonly #repos = new Map<string, Map<string, Served>>();
  /** Throttle for file bodies: at most `bytes` per `everyMs` (the kill test needs a download that takes a while). */
  throttle: { bytes: number; everyMs: number } | null = null;
  /** Bytes per second each response may send at most, paced against the clock (a CDN's per-connection cap). */
  capBytesPerSec: number | null = null;
  /** Bytes per second all responses together may send at most: a link of that speed between hub and client. */
  linkBytesPerSec: number | null = null;
  /** When the imitated link has sent everything queued on it so far. */
  #linkFreeAt = 0;
  chunkBytes = 256 * 1024;
  url = '';

  private constructor(
    private readonly server: Server,
    private readonly pageSize: number,
  ) {}

  static async start(repos: Record<string, FakeFile[]>, opts: { pageSize?: number } = {}): Promise<FakeHub> {
    const server = createServer();
    const hub = new FakeHub(server, opts.pageSize ?? 3);
    for (const [repo, files] of Object.entries(repos))
      hub.#repos.set(repo, new Map(files.map((f) => [f.path, serve(f)])));
    server.on('connection', (s) => {
      hub.#sockets.add(s);
      s.on('close', () => hub.#sockets.delete(s));
    });
    server.on('request', (req, res) => hub.#handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return hub;
  }

  /** Queues faults for a file; each body request of that file consumes one. */
  fault(path: string, ...faults: Fault[]): void {
    this.#faults.set(path, [...(this.#faults.get(path) ?? []), ...faults]);
  }

  /** What the listing says about a file (for assertions). */
  file(repo: string, path: string): { size: number; sha256: string; gitOid: string } {
    return this.#repos.get(repo)!.get(path)!;
  }

  requestsFor(file: string): LoggedRequest[] {
    return this.requests.filter((r) => r.file === file);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const log: LoggedRequest = {
      kind: 'other',
      url: url.pathname + url.search,
      file: null,
      range: req.headers.range ?? null,
      authorization: req.headers.authorization ?? null,
      status: 0,
    };
    this.requests.push(log);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      log.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname))) {
      log.kind = 'revision';
      const rev = decodeURIComponent(m[2]!);
      if (!this.#repos.has(m[1]!) || (rev !== 'main' && rev !== FAKE_COMMIT))
        return answer(404, { error: 'Revision not found' });
      return answer(200, { id: m[1], sha: FAKE_COMMIT });
    }
    if ((m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(url.pathname))) {
      log.kind = 'tree';
      const files = this.#repos.get(m[1]!);
      if (!files || decodeURIComponent(m[2]!) !== FAKE_COMMIT) return answer(404, { error: 'Repository not found' });
      const entries = treeEntries([...files.values()]);
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const page = entries.slice(cursor, cursor + this.pageSize);
      const next =
        cursor + this.pageSize < entries.length
          ? `<${this.url}${url.pathname}?recursive=true&cursor=${cursor + this.pageSize}>; rel="next"`
          : null;
      return answer(200, page, next ? { link: next } : {});
    }
    if ((m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname))) {
      log.kind = 'resolve';
      const path = m[3]!.split('/').map(decodeURIComponent).join('/');
      const file = this.#repos.get(m[1]!)?.get(path);
      log.file = path;
      if (!file || decodeURIComponent(m[2]!) !== FAKE_COMMIT) return answer(404, { error: 'Entry not found' });
      if (!file.lfs) return this.#body(file, req, res, log);
      // Like the hub: LFS files live on a CDN; the redirect is relative here, absolute on the real hub.
      log.status = 302;
      return void res
        .writeHead(302, {
          location: `/cdn/${m[1]}/${file.sha256}?path=${encodeURIComponent(path)}`,
          'x-linked-size': String(file.size),
        })
        .end();
    }
    if ((m = /^\/cdn\/([^/]+\/[^/]+)\/([0-9a-f]{64})$/.exec(url.pathname))) {
      log.kind = 'cdn';
      const file = [...(this.#repos.get(m[1]!)?.values() ?? [])].find((f) => f.sha256 === m![2]);
      log.file = file?.path ?? null;
      if (!file) return answer(404, { error: 'no such object' });
      return this.#body(file, req, res, log);
    }
    answer(404, { error: 'unknown route' });
  }

  #body(file: Served, req: IncomingMessage, res: ServerResponse, log: LoggedRequest): void {
    const fault = this.#faults.get(file.path)?.shift();
    if (fault?.kind === 'status') {
      log.status = fault.status;
      return void res.writeHead(fault.status, { 'content-type': 'text/plain' }).end('injected failure');
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = file.size;
    let status = 200;
    if (range && fault?.kind !== 'ignore-range') {
      start = Number(range[1]);
      end = range[2] ? Math.min(file.size, Number(range[2]) + 1) : file.size;
      if (start >= file.size) {
        log.status = 416;
        return void res.writeHead(416, { 'content-range': `bytes */${file.size}` }).end();
      }
      status = 206;
    }
    log.status = status;
    res.writeHead(status, {
      'content-type': 'application/octet-stream',
      'content-length': String(end - start),
      'accept-ranges': 'bytes',
      etag: `"${file.sha256}"`,
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end - 1}/${file.size}` } : {}),
    });
    void this.#stream(file, res, start, end, fault);
  }

  async #stream(
    file: Served,
    res: ServerResponse,
    start: number,
    end: number,
    fault: Fault | undefined,
  ): Promise<void> {
    let sent = 0;
    const began = performance.now();
    const limit = fault?.kind === 'drop' || fault?.kind === 'stall' ? fault.afterBytes : Infinity;
    const pace = fault?.kind === 'slow' ? fault : this.throttle;
    for (let pos = start; pos < end && !res.destroyed;) {
      const chunkEnd = Math.min(
        end,
        pos + (pace?.bytes ?? this.chunkBytes),
        pos + limit - sent,
        (Math.floor(pos / BLOCK) + 1) * BLOCK,
      );
      if (chunkEnd <= pos) break;
      let chunk = file.slice(pos, chunkEnd);
      if (fault?.kind === 'corrupt' && sent === 0) {
        chunk = Buffer.from(chunk);
        chunk[0]! ^= 0xff;
      }
      if (this.linkBytesPerSec) {
        // Each chunk takes its turn on the shared link; an idle link earns no credit for later.
        const now = performance.now();
        this.#linkFreeAt = Math.max(now, this.#linkFreeAt) + (chunk.length / this.linkBytesPerSec) * 1000;
        await new Promise((r) => setTimeout(r, this.#linkFreeAt - now));
      }
      const drained = res.write(chunk);
      sent += chunk.length;
      this.bytesSent.set(file.path, (this.bytesSent.get(file.path) ?? 0) + chunk.length);
      pos = chunkEnd;
      if (!drained) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done).off('close', done);
            resolve();
          };
          res.on('drain', done).on('close', done);
        });
      }
      if (pace) await new Promise((r) => setTimeout(r, pace.everyMs));
      const ahead = this.capBytesPerSec ? began + (sent / this.capBytesPerSec) * 1000 - performance.now() : 0;
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
    if (fault?.kind === 'drop') return void res.socket?.destroy();
    if (fault?.kind === 'stall') return; // keeps the connection open, sending nothing, until the client gives up
    res.end();
  }
}

function serve(f: FakeFile): Served {
  const size = f.content?.length ?? f.generatedSize!;
  const slice = f.content ? (a: number, b: number) => f.content!.subarray(a, b) : generatedSlice(f.path);
  const sha = createHash('sha256');
  // The git blob id is what the listing gives for non-LFS files; skipping it for LFS halves the start-up of the 1 GB bench.
  const git = f.lfs ? null : createHash('sha1').update(`blob ${size}\0`);
  for (let pos = 0; pos < size;) {
    const end = Math.min(size, (Math.floor(pos / BLOCK) + 1) * BLOCK);
    const chunk = slice(pos, end);
    sha.update(chunk);
    git?.update(chunk);
    pos = end;
  }
  return { path: f.path, lfs: f.lfs, size, sha256: sha.digest('hex'), gitOid: git?.digest('hex') ?? '', slice };
}

/** Bytes of a generated file: one seeded 1 MiB block repeated; a slice never crosses a block boundary. */
function generatedSlice(seed: string): (a: number, b: number) => Buffer {
  const block = Buffer.alloc(BLOCK);
  let x = [...seed].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 2166136261) || 1;
  for (let i = 0; i < BLOCK; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0; // xorshift32
    block.writeUInt32LE(x, i);
  }
  return (a, b) => block.subarray(a % BLOCK, (a % BLOCK) + (b - a));
}

function treeEntries(files: Served[]): unknown[] {
  const dirs = new Set<string>();
  for (const f of files)
    f.path
      .split('/')
      .slice(0, -1)
      .forEach((_, i, parts) => dirs.add(parts.slice(0, i + 1).join('/')));
  return [
    ...[...dirs].sort().map((path) => ({ type: 'directory', oid: '0'.repeat(40), size: 0, path })),
    ...files.map((f) =>
      f.lfs
        ? {
            type: 'file',
            oid: createHash('sha1').update(f.path).digest('hex'),
            size: f.size,
            path: f.path,
            lfs: { oid: f.sha256, size: f.size, pointerSize: 134 },
          }
        : { type: 'file', oid: f.gitOid, size: f.size, path: f.path },
    ),
  ];
}

/** A folder on disk as repository files; weights and the tokenizer are LFS files, as on the real hub. */
export function folderAsRepo(root: string): FakeFile[] {
  const out: FakeFile[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else
        out.push({
          path: relative(root, full).split(sep).join('/'),
          lfs: /\.safetensors$|tokenizer\.json$/.test(e.name),
          content: readFileSync(full),
        });
    }
  };
  walk(root);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
