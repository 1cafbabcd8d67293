import { createHash, type Hash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelError, cancelled } from './model-error.ts';

/**
 * What a file must be. LFS files carry a sha256 in the listing; small files kept in git only carry their git blob
 * oid (sha1 of "blob <len>\0" + content), which we can compute as well, so every file gets a content check.
 */
export interface ExpectedFile {
  path: string;
  size: number;
  sha256?: string;
  gitOid?: string;
}

export type FileProblem = { path: string; problem: 'missing' | 'size' | 'checksum'; message: string };

/** The reference digest used for a file, as recorded in the registry ("sha256:…" or "git:…"). */
export function referenceDigest(f: ExpectedFile): string | null {
  if (f.sha256) return `sha256:${f.sha256}`;
  if (f.gitOid) return `git:${f.gitOid}`;
  return null;
}

/** Incremental hasher for one expected file; bytes can arrive in any chunking. */
export class FileHasher {
  #sha256: Hash | null;
  #git: Hash | null;
  #final: { sha256?: string; gitOid?: string } | null = null;
  bytes = 0;

  constructor(readonly expected: ExpectedFile) {
    this.#sha256 = expected.sha256 || !expected.gitOid ? createHash('sha256') : null;
    // The git oid hashes a header holding the final length, which the listing gives us up front.
    this.#git = expected.gitOid ? createHash('sha1').update(`blob ${expected.size}\0`) : null;
  }

  update(chunk: Uint8Array): void {
    this.#sha256?.update(chunk);
    this.#git?.update(chunk);
    this.bytes += chunk.byteLength;
  }

  /** Null when size and digest match; otherwise the reason. */
  problem(): FileProblem | null {
    return digestProblem(this.expected, this.bytes, () => this.digests());
  }

  /** Final digests; the hasher accepts no more bytes afterwards. */
  digests(): { sha256?: string; gitOid?: string } {
    this.#final ??= { sha256: this.#sha256?.digest('hex'), gitOid: this.#git?.digest('hex') };
    return this.#final;
  }
}

/** Null when `bytes` and the digests match the expectation; the digests are only computed when the size matches. */
export function digestProblem(
  expected: ExpectedFile,
  bytes: number,
  digests: () => { sha256?: string; gitOid?: string },
): FileProblem | null {
  const { path, size, sha256, gitOid } = expected;
  if (bytes !== size) return { path, problem: 'size', message: `${path}: ${bytes} bytes, expected ${size}` };
  const got = digests();
  if (sha256 && got.sha256 !== sha256.toLowerCase()) {
    return { path, problem: 'checksum', message: `${path}: sha256 ${got.sha256} does not match ${sha256}` };
  }
  if (!sha256 && gitOid && got.gitOid !== gitOid.toLowerCase()) {
    return { path, problem: 'checksum', message: `${path}: git blob id ${got.gitOid} does not match ${gitOid}` };
  }
  return null;
}

const READ_CHUNK = 4 * 1024 * 1024;

/** Feeds the first `length` bytes of a file into the hasher (re-hashing a .part prefix, or a whole file). */
export async function hashInto(
  hasher: FileHasher,
  path: string,
  length: number,
  opts: HashOptions = {},
): Promise<void> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let pos = 0;
    while (pos < length) {
      if (opts.signal?.aborted) throw cancelled('verification');
      const { bytesRead } = await file.read(buf, 0, Math.min(READ_CHUNK, length - pos), pos);
      if (bytesRead === 0) break;
      hasher.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
      opts.onBytes?.(bytesRead);
    }
  } finally {
    await file.close();
  }
}

export interface HashOptions {
  signal?: AbortSignal;
  onBytes?(delta: number): void;
}

/** Checks one file on disk against its expectation: missing, wrong size (without reading), or wrong content. */
export async function verifyFile(
  dir: string,
  expected: ExpectedFile,
  opts: HashOptions = {},
): Promise<FileProblem | null> {
  const full = join(dir, expected.path);
  const info = await stat(full).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  const { path } = expected;
  if (!info || !info.isFile()) return { path, problem: 'missing', message: `${path} is missing` };
  if (info.size !== expected.size)
    return { path, problem: 'size', message: `${path}: ${info.size} bytes, expected ${expected.size}` };
  const hasher = new FileHasher(expected);
  await hashInto(hasher, full, info.size, opts);
  return hasher.problem();
}

/** Verifies every file; returns the problems (empty when the folder is complete and intact). */
export async function verifyFiles(
  dir: string,
  files: readonly ExpectedFile[],
  opts: HashOptions = {},
): Promise<FileProblem[]> {
  const problems: FileProblem[] = [];
  for (const f of files) {
    const p = await verifyFile(dir, f, opts);
    if (p) problems.push(p);
  }
  return problems;
}

export function checksumError(p: FileProblem): ModelError {
  return new ModelError('checksum-mismatch', p.message, { path: p.path, problem: p.problem });
}
