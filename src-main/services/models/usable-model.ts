import { basename, dirname } from 'node:path';
import { ModelError } from './model-error.ts';
import { ModelRegistry } from './registry.ts';

/**
 * Refuses a model folder that the registry of its models folder knows as not ready (a paused download, or
 * files that failed verification), so nothing runs on half-written or corrupt weights. A folder no registry
 * knows (a model the user points at directly) is taken as it is.
 */
export async function assertModelUsable(modelDir: string): Promise<void> {
  const folder = basename(modelDir);
  const entry = (await new ModelRegistry(dirname(modelDir)).list()).find((m) => m.folder === folder);
  if (!entry || entry.state === 'ready') return;
  const why =
    entry.state === 'paused'
      ? `is not completely downloaded (${entry.repo}, paused); resume the download first`
      : `has files that failed verification (${(entry.damagedFiles ?? []).join(', ') || entry.repo}); verify it again to repair them`;
  throw new ModelError(
    entry.state === 'paused' ? 'incomplete' : 'checksum-mismatch',
    `the model in ${modelDir} ${why}`,
    { repo: entry.repo, state: entry.state },
  );
}
