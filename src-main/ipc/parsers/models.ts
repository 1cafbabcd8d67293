import { checkRepoId, checkRevision } from '../../services/models/repo-id.ts';
import { PayloadError, args, bool, obj, str, type Check } from '../validate.ts';

/** The service's own rules for repository ids and revisions, reported as payload errors. */
const viaService =
  (rule: (s: string) => string, what: string): Check<string> =>
  (v, path) => {
    const text = str({ nonEmpty: true, max: 200 })(v, path);
    try {
      return rule(text);
    } catch {
      throw new PayloadError(`${path} must be ${what}`);
    }
  };
const optional =
  <T>(check: Check<T>): Check<T | undefined> =>
  (v, path) =>
    v === undefined ? undefined : check(v, path);

const repoId = viaService(checkRepoId, 'a hub repository id such as OmniGen2/OmniGen2');
const revision = viaService(checkRevision, 'a branch, tag or commit');

export const modelsParsers = {
  catalogue: args(),
  list: args(),
  download: args(obj({ repo: repoId, revision: optional(revision) })),
  pause: args(repoId),
  resume: args(repoId),
  cancel: args(obj({ repo: repoId, keepPartial: bool })),
  verify: args(repoId),
  remove: args(repoId),
  import: args(obj({ folder: str({ nonEmpty: true, max: 4096 }), repo: optional(repoId) })),
};
