import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DownloadProgress, InstalledModel } from '../ipc/contract.ts';
import { MAX_CONNECTIONS } from '../services/models/file-download.ts';
import { DEFAULT_ENDPOINT } from '../services/models/hub-client.ts';
import { ModelError } from '../services/models/model-error.ts';
import { ModelManager } from '../services/models/model-manager.ts';
import { defaultModelsDir } from '../services/paths.ts';
import { openNodeSettings } from '../services/settings/node-settings.ts';
import { parseCommandArgs } from './args.ts';
import { CliError, UsageError, type CliCommand, type CliContext } from './command.ts';
import { cliCacheDir, cliModelsDir } from './models-dir.ts';
import { ProgressBar, formatBytes } from './progress-bar.ts';

const USAGE = `Usage: atelier models <subcommand> [options]

  list [--json]                        catalogue and installed models with their state
  download REPO [--revision R]         download (or resume) a hub repository, verified file by file
         [--endpoint URL]              hub or mirror (default: HF_ENDPOINT, then settings, then ${DEFAULT_ENDPOINT})
         [--token-env NAME]            environment variable holding an access token (default HF_TOKEN)
         [--connections N]             ranged connections per large file, 1 to 16 (default: settings, then 8)
  verify DIR|REPO                      re-hash every file of an installed model
  remove REPO                          delete an installed or partial model
  import FOLDER [--repo REPO]          copy a plain snapshot or a hub-cache folder in, verified

Every subcommand takes --dir DIR, the models folder (default: ATELIER_MODELS_DIR, then settings, then
${defaultModelsDir()}). Progress goes to stderr. Ctrl-C pauses a download; run the same command to resume.

Exit status: 0 success · 1 failure (one line saying why) · 2 bad arguments · 130 interrupted.
`;

type Sub = (argv: string[], ctx: CliContext) => Promise<number>;
const SUBCOMMANDS: Record<string, Sub> = { list, download, verify, remove, import: importFolder };

export const modelsCommand: CliCommand = {
  name: 'models',
  summary: 'list, download, verify, remove and import models (atelier models --help)',
  usage: USAGE,
  async run(argv, ctx) {
    const [sub, ...rest] = argv;
    const run = sub === undefined ? undefined : SUBCOMMANDS[sub];
    if (!run)
      throw new UsageError(
        `unknown subcommand "${sub ?? ''}"; one of ${Object.keys(SUBCOMMANDS).join(', ')} (atelier models --help)`,
      );
    try {
      return await run(rest, ctx);
    } catch (e) {
      if (e instanceof ModelError) {
        if (e.code === 'invalid-request') throw new UsageError(e.message);
        throw new CliError(e.message, e.code === 'cancelled' ? 130 : 1);
      }
      throw e;
    }
  },
};

const DIR_OPTION = { dir: { type: 'string' } } as const;

async function list(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'models list',
    argv,
    { ...DIR_OPTION, json: { type: 'boolean' } },
    true,
  );
  if (positionals.length > 0) throw new UsageError('list takes no arguments');
  const manager = createManager(ctx, values.dir);
  const installed = await manager.list();
  if (values.json) {
    ctx.stdout(
      `${JSON.stringify({ modelsDir: manager.modelsDir, catalogue: manager.catalogue(), installed }, null, 2)}\n`,
    );
    return 0;
  }
  const rows = [
    ...installed.map((m) => [m.repo, m.state, `${formatBytes(m.doneBytes)}/${formatBytes(m.totalBytes)}`, m.folder]),
    ...manager
      .catalogue()
      .filter((c) => !installed.some((m) => m.repo === c.repo))
      .map((c) => [c.repo, 'not-installed', `~${formatBytes(c.approxBytes)}`, c.title]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  ctx.stdout(`Models folder: ${manager.modelsDir}\n`);
  for (const r of rows) ctx.stdout(`${r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ')}\n`);
  for (const m of installed) if (m.error) ctx.stdout(`  ${m.repo}: ${m.error.message}\n`);
  return 0;
}

async function download(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'models download',
    argv,
    {
      ...DIR_OPTION,
      revision: { type: 'string' },
      endpoint: { type: 'string' },
      'token-env': { type: 'string' },
      connections: { type: 'string' },
    },
    true,
  );
  const repo = single(positionals, 'download REPO');
  const endpoint = values.endpoint ?? ctx.env.HF_ENDPOINT ?? savedSettings(ctx.env).hubEndpoint;
  const tokenVar = values['token-env'] ?? 'HF_TOKEN';
  const token = ctx.env[tokenVar];
  if (values['token-env'] !== undefined && !token)
    throw new UsageError(`environment variable ${tokenVar} is empty; it should hold the access token`);
  const connections =
    values.connections === undefined ? savedSettings(ctx.env).downloadConnections : Number(values.connections);
  if (!Number.isInteger(connections) || connections < 1 || connections > MAX_CONNECTIONS) {
    throw new UsageError(
      `--connections must be a whole number from 1 to ${MAX_CONNECTIONS}, not "${values.connections}"`,
    );
  }
  const manager = createManager(ctx, values.dir, endpoint, token, connections);
  const stop = showProgress(manager, ctx);
  ctx.stderr(
    `Downloading ${repo}${values.revision ? ` (${values.revision})` : ''} from ${endpoint} into ${manager.modelsDir}\n`,
  );
  const handle = manager.download(repo, values.revision === undefined ? {} : { revision: values.revision });
  const onInterrupt = () => void manager.pause(repo).catch(() => undefined);
  ctx.signal.addEventListener('abort', onInterrupt, { once: true });
  try {
    const model = await handle.done;
    stop();
    ctx.stdout(
      `${repo} is ready: ${model.folder} (${model.fileCount} files, ${formatBytes(model.totalBytes)}, every file verified)\n`,
    );
    return 0;
  } catch (e) {
    stop();
    if (ctx.signal.aborted) {
      const model = await manager.get(repo);
      const kept = model ? ` (${formatBytes(model.doneBytes)} of ${formatBytes(model.totalBytes)} kept)` : '';
      ctx.stderr(`atelier models download: paused${kept}; run the same command again to resume\n`);
      return 130;
    }
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', onInterrupt);
  }
}

async function verify(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('models verify', argv, DIR_OPTION, true);
  const target = single(positionals, 'verify DIR|REPO');
  const asDir = resolve(ctx.cwd, target);
  const isDir = statSync(asDir, { throwIfNoEntry: false })?.isDirectory() ?? false;
  if (!isDir && !/^[^/.][^/]*\/[^/]+$/.test(target)) throw new CliError(`${asDir} is not a folder`);
  // A model folder's registry is its parent (the models folder) unless --dir says otherwise.
  const manager = createManager(ctx, values.dir ?? (isDir ? dirname(asDir) : undefined));
  const model = (await manager.list()).find((m) => (isDir ? m.folder === asDir : m.repo === target));
  if (!model) {
    throw new CliError(
      isDir
        ? `${asDir} is not a model folder known to ${manager.modelsDir}; import it first (atelier models import ${target})`
        : `${target} is not installed in ${manager.modelsDir}`,
    );
  }
  const stop = showProgress(manager, ctx);
  const result = await manager.verify(model.repo, ctx.signal).finally(stop);
  if (result.state !== 'ready')
    throw new CliError(
      `${model.repo} is damaged: ${result.error?.message ?? 'verification failed'}; run atelier models download ${model.repo} to repair it`,
    );
  ctx.stdout(
    `${model.repo}: all ${result.fileCount} files verified (${formatBytes(result.totalBytes)}, checksums from ${result.checksums})\n`,
  );
  return 0;
}

async function remove(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('models remove', argv, DIR_OPTION, true);
  const repo = single(positionals, 'remove REPO');
  const manager = createManager(ctx, values.dir);
  await manager.remove(repo);
  ctx.stdout(`removed ${repo} from ${manager.modelsDir}\n`);
  return 0;
}

async function importFolder(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'models import',
    argv,
    { ...DIR_OPTION, repo: { type: 'string' } },
    true,
  );
  const folder = resolve(ctx.cwd, single(positionals, 'import FOLDER'));
  const manager = createManager(ctx, values.dir);
  const stop = showProgress(manager, ctx);
  const model: InstalledModel = await manager
    .import(folder, { ...(values.repo ? { repo: values.repo } : {}), signal: ctx.signal })
    .finally(stop);
  const note =
    model.checksums === 'local'
      ? 'no hub checksums in the source, so the sha256 of each file was recorded now'
      : `checked against ${model.checksums} checksums`;
  ctx.stdout(
    `imported ${model.repo} into ${model.folder} (${model.fileCount} files, ${formatBytes(model.totalBytes)}; ${note})\n`,
  );
  return 0;
}

function single(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one argument: atelier models ${usage}`);
  return positionals[0]!;
}

function createManager(
  ctx: CliContext,
  dir: string | undefined,
  endpoint = DEFAULT_ENDPOINT,
  token?: string,
  connections?: number,
): ModelManager {
  return new ModelManager({
    modelsDir: cliModelsDir(ctx, dir),
    cacheDir: cliCacheDir(ctx),
    hub: () => (token ? { endpoint, token } : { endpoint }),
    ...(connections ? { connections: () => connections } : {}),
  });
}

/** The desktop app's saved settings (the CLI follows the models folder and endpoint chosen there). */
function savedSettings(env: NodeJS.ProcessEnv): {
  modelsDir: string;
  hubEndpoint: string;
  downloadConnections: number;
} {
  const { modelsDir, hubEndpoint, downloadConnections } = openNodeSettings(env).get();
  return { modelsDir, hubEndpoint, downloadConnections };
}

/** Draws progress on stderr and prints retry notices on their own line; returns the function that ends it. */
function showProgress(manager: ModelManager, ctx: CliContext): () => void {
  const bar = new ProgressBar(ctx);
  let lastNotice: string | null = null;
  const unsubscribe = manager.subscribe((e) => {
    if (e.event !== 'download.progress') return;
    const p: DownloadProgress = e.payload;
    if (p.notice && p.notice !== lastNotice) {
      bar.finish();
      ctx.stderr(`  ${p.notice}\n`);
    }
    lastNotice = p.notice;
    bar.update({
      label: `${p.phase} ${p.filesDone}/${p.fileCount} files`,
      done: p.doneBytes,
      total: p.totalBytes,
      unit: 'bytes',
      ratePerSec: p.bytesPerSec,
      etaMs: p.etaMs,
    });
  });
  return () => {
    unsubscribe();
    bar.finish();
  };
}
