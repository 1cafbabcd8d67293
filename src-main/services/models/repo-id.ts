import { ModelError } from './model-error.ts';

// The hub's own rules: owner and name use letters, digits, '-', '_', '.'; no '--' or '..' and no leading/trailing
// '-' or '.' in the name. We accept the common subset and reject anything that could escape a folder.
const PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;

export function checkRepoId(repo: string): string {
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => PART.test(p) && !p.includes('..') && !p.includes('--'))) {
    throw new ModelError(
      'invalid-request',
      `"${repo}" is not a hub repository id (expected owner/name, e.g. OmniGen2/OmniGen2)`,
      { repo },
    );
  }
  return repo;
}

/** Folder name of a model under the models folder: one level, like the hub cache's `models--owner--name`. */
export const repoFolderName = (repo: string): string => checkRepoId(repo).replace('/', '--');

/** A branch, tag or commit; '/' is allowed (refs/pr/1) but nothing that walks out of a URL path. */
export function checkRevision(revision: string): string {
  if (
    !/^[A-Za-z0-9._/-]{1,200}$/.test(revision) ||
    revision.split('/').some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new ModelError('invalid-request', `"${revision}" is not a valid revision (branch, tag or commit)`, {
      revision,
    });
  }
  return revision;
}

/**
 * A file path from a listing, used as a relative path on disk. The server is not trusted: an absolute path, '..',
 * a backslash or a drive letter would let a hostile mirror write outside the model folder.
 */
export function checkRepoPath(path: string): string {
  const bad =
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    /^[A-Za-z]:/.test(path) ||
    path.includes('\0') ||
    path.split('/').some((s) => s === '' || s === '.' || s === '..') ||
    /\.part(\.ranges(\.tmp)?)?$/.test(path); // our partial files
  if (bad) throw new ModelError('bad-response', `the listing contains an unsafe file path "${path}"`, { path });
  return path;
}
