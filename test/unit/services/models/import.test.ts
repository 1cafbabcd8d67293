import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ModelManager } from '../../../../src-main/services/models/model-manager.ts';
import { REGISTRY_FILE } from '../../../../src-main/services/models/registry.ts';
import { folderAsRepo } from '../../../helpers/fake-hub.ts';
import { goldenDir } from '../../../helpers/golden.ts';

const GOLDEN_MODEL = join(goldenDir(), 'e2e', 'model');
const FILES = folderAsRepo(GOLDEN_MODEL);
const COMMIT = 'ab'.repeat(20);
const WEIGHTS = 'transformer/diffusion_pytorch_model.safetensors';

let work: string;
let modelsDir: string;
/** A private copy of the golden model: tests import from it, never from the shared folder itself. */
let source: string;
const manager = () => new ModelManager({ modelsDir, hub: () => ({ endpoint: 'http://127.0.0.1:9' }) });

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'atelier-import-'));
  modelsDir = join(work, 'models');
  source = join(work, 'snapshot');
  await cp(GOLDEN_MODEL, source, { recursive: true });
});
afterEach(() => rm(work, { recursive: true, force: true }));

/** The hub cache layout: blobs named by etag (sha256 for LFS, git blob id otherwise), snapshot files are symlinks. */
async function makeHubCache(corrupt?: string): Promise<string> {
  const root = join(work, 'hub', 'models--OmniGen2--OmniGen2');
  await mkdir(join(root, 'blobs'), { recursive: true });
  await mkdir(join(root, 'refs'), { recursive: true });
  await writeFile(join(root, 'refs', 'main'), COMMIT);
  for (const f of FILES) {
    const etag = f.lfs
      ? createHash('sha256').update(f.content!).digest('hex')
      : createHash('sha1').update(`blob ${f.content!.length}\0`).update(f.content!).digest('hex');
    const bytes = Buffer.from(f.content!);
    if (f.path === corrupt) bytes[bytes.length - 1]! ^= 1;
    await writeFile(join(root, 'blobs', etag), bytes);
    const link = join(root, 'snapshots', COMMIT, f.path);
    await mkdir(dirname(link), { recursive: true });
    await symlink(relative(dirname(link), join(root, 'blobs', etag)), link);
  }
  return root;
}

async function plainFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) expect((await lstat(join(e.parentPath, e.name))).isSymbolicLink(), e.name).toBe(false);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('import', () => {
  test('a hub-cache folder (symlinks into blobs/) becomes plain files, checked against the blob names', async () => {
    const model = await manager().import(await makeHubCache());
    expect(model).toMatchObject({
      repo: 'OmniGen2/OmniGen2',
      state: 'ready',
      checksums: 'hub-cache',
      commit: COMMIT,
      source: 'import',
      fileCount: FILES.length,
    });
    expect(await plainFiles(model.folder)).toEqual(FILES.map((f) => f.path).sort());
    expect((await stat(join(model.folder, WEIGHTS))).nlink).toBe(2); // hard link to the immutable blob, no extra space
    expect((await readFile(join(model.folder, WEIGHTS))).equals(FILES.find((f) => f.path === WEIGHTS)!.content!)).toBe(
      true,
    );
    expect(await manager().verify('OmniGen2/OmniGen2')).toMatchObject({ state: 'ready' });
  });

  test('a snapshots/<rev> folder inside the cache is understood too', async () => {
    const root = await makeHubCache();
    const model = await manager().import(join(root, 'snapshots', COMMIT));
    expect(model).toMatchObject({ repo: 'OmniGen2/OmniGen2', checksums: 'hub-cache', commit: COMMIT });
  });

  test('a corrupted blob is refused and the models folder is left exactly as it was', async () => {
    const root = await makeHubCache(WEIGHTS);
    await expect(manager().import(root)).rejects.toMatchObject({
      code: 'checksum-mismatch',
      detail: { path: WEIGHTS },
    });
    expect(await readdir(modelsDir).catch(() => [])).toEqual([]);
  });

  test('a plain snapshot is recognised as OmniGen2, copied, and its sha256 recorded for later verification', async () => {
    const model = await manager().import(source);
    expect(model).toMatchObject({ repo: 'OmniGen2/OmniGen2', state: 'ready', checksums: 'local', commit: null });
    expect(await plainFiles(model.folder)).toEqual(FILES.map((f) => f.path).sort());
    expect((await stat(join(model.folder, WEIGHTS))).nlink).toBe(1); // a copy: edits to the user's folder cannot leak in
    const config = join(model.folder, 'vae/config.json');
    const bytes = await readFile(config);
    await rm(config); // replace the file rather than write through it
    await writeFile(config, Buffer.concat([bytes.subarray(0, -1), Buffer.from(' ')]));
    expect(await manager().verify('OmniGen2/OmniGen2')).toMatchObject({
      state: 'damaged',
      damagedFiles: ['vae/config.json'],
    });
  });

  test('hf download --local-dir metadata provides hub etags for a plain folder', async () => {
    for (const f of FILES) {
      const etag = createHash('sha256').update(f.content!).digest('hex');
      const meta = join(source, '.cache', 'huggingface', 'download', `${f.path}.metadata`);
      await mkdir(dirname(meta), { recursive: true });
      await writeFile(meta, `${COMMIT}\n${f.path === WEIGHTS ? '0'.repeat(64) : etag}\n1700000000.0\n`);
    }
    await expect(manager().import(source)).rejects.toMatchObject({
      code: 'checksum-mismatch',
      detail: { path: WEIGHTS },
    });
    await writeFile(
      join(source, '.cache', 'huggingface', 'download', `${WEIGHTS}.metadata`),
      `${COMMIT}\n${createHash('sha256')
        .update(FILES.find((f) => f.path === WEIGHTS)!.content!)
        .digest('hex')}\n0\n`,
    );
    const model = await manager().import(source);
    expect(model).toMatchObject({ checksums: 'hub-cache', commit: COMMIT });
    expect(await plainFiles(model.folder)).not.toContain('.cache');
  });

  test('a truncated safetensors file in a plain folder is refused (no reference checksum to compare with)', async () => {
    await truncate(join(source, WEIGHTS), 5000);
    await expect(manager().import(source, { repo: 'me/omnigen2-copy' })).rejects.toMatchObject({
      code: 'checksum-mismatch',
    });
    expect(await readdir(modelsDir).catch(() => [])).toEqual([]);
  });

  test('a folder that cannot be identified must be named; an installed repository is not overwritten', async () => {
    const other = join(work, 'other');
    await mkdir(other);
    await writeFile(join(other, 'weights.bin'), 'x');
    await expect(manager().import(other)).rejects.toMatchObject({ code: 'invalid-request' });
    await manager().import(source);
    await expect(manager().import(await makeHubCache())).rejects.toMatchObject({ code: 'busy' });
    expect(JSON.parse(await readFile(join(modelsDir, REGISTRY_FILE), 'utf8')).models[0].checksums).toBe('local');
  });
});
