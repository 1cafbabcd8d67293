import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CATALOGUE } from './catalogue.ts';
import { ModelError } from './model-error.ts';
import { ModelRegistry, type RegistryEntry } from './registry.ts';

/** A model to run: its folder, and its repository id when it is installed in the models folder. */
export interface FoundModel {
  dir: string;
  repo: string | null;
}

export interface FindModelOptions {
  /** The models folder (settings, or ATELIER_MODELS_DIR). */
  modelsDir: string;
  /** Where a relative folder is resolved from. */
  cwd: string;
}

const DOWNLOAD_HINT = `atelier models download ${CATALOGUE[0]!.repo}`;

/**
 * The model `spec` names, found the way the app finds it: the repository id of an installed model (e.g.
 * `acme/tiny` after `atelier models import FOLDER --repo acme/tiny`), else a model folder. Without a spec, the
 * model the app would run: the installed model Atelier is built for (the catalogue's first), else the only ready
 * one. Every failure says in one line what to do.
 */
export async function findModel(spec: string | undefined, options: FindModelOptions): Promise<FoundModel> {
  const entries = await new ModelRegistry(options.modelsDir).list();
  const found = (entry: RegistryEntry): FoundModel => ({
    dir: join(options.modelsDir, entry.folder),
    repo: entry.repo,
  });
  if (spec === undefined) return found(defaultEntry(entries, options.modelsDir));

  const installed = entries.find((e) => e.repo === spec);
  if (installed) return found(usable(installed, options.modelsDir));
  const dir = resolve(options.cwd, spec);
  if (existsSync(dir)) return { dir, repo: null };
  const looksLikeRepo = /^[^/\\.][^/\\]*\/[^/\\]+$/.test(spec) && !spec.startsWith('~');
  throw new ModelError(
    'not-found',
    looksLikeRepo
      ? `${spec} is not installed in ${options.modelsDir}, and there is no folder ${dir}; install it (atelier models download ${spec}) or give a model folder`
      : `no model folder at ${dir}`,
    { model: spec },
  );
}

function defaultEntry(entries: readonly RegistryEntry[], modelsDir: string): RegistryEntry {
  const ready = entries.filter((e) => e.state === 'ready');
  const preferred = CATALOGUE.map((c) => ready.find((e) => e.repo === c.repo)).find((e) => e !== undefined);
  if (preferred) return preferred;
  if (ready.length === 1) return ready[0]!;
  if (ready.length > 1) {
    throw new ModelError(
      'invalid-request',
      `${ready.length} models are installed in ${modelsDir} (${ready.map((e) => e.repo).join(', ')}); choose one with --model REPO`,
    );
  }
  const unready = entries.map((e) => `${e.repo}, ${e.state}`).join('; ');
  throw new ModelError(
    'not-found',
    entries.length === 0
      ? `no model is installed in ${modelsDir}; download one (${DOWNLOAD_HINT}), import a folder (atelier models import FOLDER), or give --model DIR`
      : `no model in ${modelsDir} is ready to run (${unready}); finish or repair it with atelier models download REPO, or give --model DIR`,
  );
}

/** The same refusal as for a folder (usable-model.ts), said with the repository id the user typed. */
function usable(entry: RegistryEntry, modelsDir: string): RegistryEntry {
  if (entry.state === 'ready') return entry;
  const why =
    entry.state === 'paused'
      ? 'is not completely downloaded (paused); resume it with'
      : `has files that failed verification (${(entry.damagedFiles ?? []).join(', ') || 'see atelier models list'}); repair it with`;
  throw new ModelError(
    entry.state === 'paused' ? 'incomplete' : 'checksum-mismatch',
    `${entry.repo} in ${modelsDir} ${why} atelier models download ${entry.repo}`,
    { repo: entry.repo, state: entry.state },
  );
}
