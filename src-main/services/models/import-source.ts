import { lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { ModelError, fromFsError } from './model-error.ts';
import { checkRepoId } from './repo-id.ts';
import type { ExpectedFile } from './verify.ts';

/** One file to import: where its bytes really are (symlinks resolved) and what it must be. */
export interface SourceFile {
  expected: ExpectedFile;
  /** Real path of the bytes (a hub-cache blob for symlinked snapshots). */
  from: string;
  /** A content-addressed hub-cache blob, never modified in place: safe to hard-link instead of copying. */
  isBlob: boolean;
}

export interface ImportSource {
  repo: string;
  revision: string;
  commit: string | null;
  /** The folder whose tree becomes the model folder. */
  root: string;
  files: SourceFile[];
  /** 'hub-cache' when every file had a reference checksum from the hub's own bookkeeping. */
  checksums: 'hub-cache' | 'local';
}

const SHA256 = /^[0-9a-f]{64}$/;
const GIT_OID = /^[0-9a-f]{40}$/;
// Bookkeeping of hub tools and of Atelier itself, never part of a model.
const SKIP_DIRS = new Set(['.cache', '.git', '.huggingface']);
const SKIP_FILE = /(\.part|\.part\.ranges|\.incomplete|\.lock|\.tmp)$/;

/**
 * Understands the three shapes a user may already have: the hub cache root `models--owner--name` (refs/ +
 * snapshots/ + blobs/), one `snapshots/<rev>` folder inside it (files are symlinks into ../../blobs/<sha>), or a
 * plain folder (e.g. `hf download --local-dir`, whose `.cache/huggingface/download/*.metadata` keep the etags).
 */
export async function readImportSource(folder: string, repoHint?: string): Promise<ImportSource> {
  const info = await stat(folder).catch((e: unknown) => {
    throw fromFsError(e, folder, 'reading');
  });
  if (!info.isDirectory()) throw new ModelError('invalid-request', `${folder} is not a folder`, { folder });
  const cacheName = /^models--(.+)--(.+)$/;
  if (cacheName.test(basename(folder))) return fromCacheRoot(folder, repoHint);
  const parent = dirname(folder);
  if (basename(parent) === 'snapshots' && cacheName.test(basename(dirname(parent)))) {
    return fromSnapshot(folder, repoHint ?? repoFromCacheName(basename(dirname(parent))), basename(folder));
  }
  return fromPlainFolder(folder, repoHint);
}

function repoFromCacheName(name: string): string {
  const m = /^models--(.+?)--(.+)$/.exec(name)!;
  return checkRepoId(`${m[1]}/${m[2]}`);
}

async function fromCacheRoot(root: string, repoHint?: string): Promise<ImportSource> {
  const snapshots = (await readdir(join(root, 'snapshots')).catch(() => [] as string[])).sort();
  const main = (await readFile(join(root, 'refs', 'main'), 'utf8').catch(() => '')).trim();
  const pick = snapshots.includes(main) ? main : snapshots.length === 1 ? snapshots[0] : undefined;
  if (!pick) {
    throw new ModelError(
      'invalid-request',
      snapshots.length === 0
        ? `${root} has no snapshots/ folder with files`
        : `${root} holds several snapshots (${snapshots.join(', ')}); import one of ${join(root, 'snapshots')}/<revision>`,
      { folder: root },
    );
  }
  return fromSnapshot(
    join(root, 'snapshots', pick),
    repoHint ?? repoFromCacheName(basename(root)),
    pick === main ? 'main' : pick,
  );
}

async function fromSnapshot(snapshot: string, repo: string, revision: string): Promise<ImportSource> {
  const files: SourceFile[] = [];
  let allReferenced = true;
  for (const path of await listFiles(snapshot)) {
    const full = join(snapshot, path);
    const from = await realpath(full);
    const size = await fileSize(from);
    // The cache names each blob after its etag: sha256 for LFS files, the git blob id for the rest.
    const name = (await lstat(full)).isSymbolicLink() ? basename(from) : '';
    const expected: ExpectedFile = SHA256.test(name)
      ? { path, size, sha256: name }
      : GIT_OID.test(name)
        ? { path, size, gitOid: name }
        : { path, size };
    allReferenced &&= expected.sha256 !== undefined || expected.gitOid !== undefined;
    files.push({ expected, from, isBlob: name !== '' && basename(dirname(from)) === 'blobs' });
  }
  const commit = GIT_OID.test(basename(snapshot)) ? basename(snapshot) : null;
  return {
    repo: checkRepoId(repo),
    revision,
    commit,
    root: snapshot,
    files,
    checksums: allReferenced ? 'hub-cache' : 'local',
  };
}

async function fromPlainFolder(root: string, repoHint?: string): Promise<ImportSource> {
  const files: SourceFile[] = [];
  let allReferenced = true;
  let commit: string | null = null;
  for (const path of await listFiles(root)) {
    // A symlink is followed: the model folder receives the bytes, never a link (ONNX external data, tech-notes.md §1.3).
    const from = await realpath(join(root, path));
    const size = await fileSize(from);
    // `hf download --local-dir` writes "<commit>\n<etag>\n<timestamp>" per file.
    const meta = (
      await readFile(join(root, '.cache', 'huggingface', 'download', `${path}.metadata`), 'utf8').catch(() => '')
    ).split('\n');
    const etag = (meta[1] ?? '').trim().replace(/"/g, '');
    const expected: ExpectedFile = SHA256.test(etag)
      ? { path, size, sha256: etag }
      : GIT_OID.test(etag)
        ? { path, size, gitOid: etag }
        : { path, size };
    if (GIT_OID.test(meta[0]?.trim() ?? '')) commit = meta[0]!.trim();
    allReferenced &&= expected.sha256 !== undefined || expected.gitOid !== undefined;
    files.push({ expected, from, isBlob: false });
  }
  const repo = repoHint ?? (await guessRepo(root));
  return {
    repo: checkRepoId(repo),
    revision: commit ?? 'main',
    commit,
    root,
    files,
    checksums: allReferenced ? 'hub-cache' : 'local',
  };
}

/** Only OmniGen2 can be recognised from its files; anything else must be named. */
async function guessRepo(root: string): Promise<string> {
  const index = await readFile(join(root, 'model_index.json'), 'utf8').catch(() => '');
  if (/"_class_name"\s*:\s*"OmniGen2Pipeline"/.test(index)) return 'OmniGen2/OmniGen2';
  throw new ModelError(
    'invalid-request',
    `cannot tell which repository ${root} holds; name it (e.g. --repo OmniGen2/OmniGen2)`,
    { folder: root },
  );
}

/** Relative '/'-separated paths of the regular files (and symlinks to files) below `root`. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) await walk(full);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && !SKIP_FILE.test(entry.name)) {
        out.push(relative(root, full).split(sep).join('/'));
      }
    }
  };
  await walk(root);
  if (out.length === 0) throw new ModelError('not-found', `${root} contains no files`, { folder: root });
  return out.sort();
}

async function fileSize(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isFile()) throw new ModelError('invalid-request', `${path} is not a regular file`, { path });
  return info.size;
}
