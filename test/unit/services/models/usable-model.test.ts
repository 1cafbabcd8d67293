import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { toIpcError } from '../../../../src-main/ipc/errors.ts';
import { ModelRegistry, type RegistryEntry } from '../../../../src-main/services/models/registry.ts';
import { assertModelUsable } from '../../../../src-main/services/models/usable-model.ts';

const root = mkdtempSync(join(tmpdir(), 'atelier-usable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function model(folder: string, state: RegistryEntry['state'] | null): Promise<string> {
  const dir = join(root, folder);
  mkdirSync(dir, { recursive: true });
  if (state) {
    await new ModelRegistry(root).update(`org/${folder}`, () => ({
      repo: `org/${folder}`,
      revision: 'main',
      commit: null,
      folder,
      state,
      source: 'download',
      checksums: 'hub',
      files: [],
      verified: [],
      updatedAt: '',
      ...(state === 'damaged' ? { damagedFiles: ['vae/x.safetensors'] } : {}),
    }));
  }
  return dir;
}

describe('assertModelUsable', () => {
  test('a ready model and a folder no registry knows are usable', async () => {
    await expect(assertModelUsable(await model('ready', 'ready'))).resolves.toBeUndefined();
    await expect(assertModelUsable(await model('loose', null))).resolves.toBeUndefined();
  });

  test('a paused download is refused as model-missing, naming the model', async () => {
    const e = await assertModelUsable(await model('half', 'paused')).catch((x: unknown) => x);
    expect(toIpcError(e)).toMatchObject({
      code: 'model-missing',
      message: expect.stringMatching(/not completely downloaded \(org\/half, paused\)/),
    });
  });

  test('a damaged model is refused as model-damaged, naming the bad files', async () => {
    const e = await assertModelUsable(await model('broken', 'damaged')).catch((x: unknown) => x);
    expect(toIpcError(e)).toMatchObject({
      code: 'model-damaged',
      message: expect.stringMatching(/vae\/x\.safetensors/),
    });
  });
});
