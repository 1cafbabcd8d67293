import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Events } from '../../../../src-main/ipc/contract.ts';
import { modelsParsers } from '../../../../src-main/ipc/parsers/models.ts';
import { ModelManager } from '../../../../src-main/services/models/model-manager.ts';
import { createModelsApi } from '../../../../src-main/services/models/models-api.ts';
import { FakeHub, folderAsRepo } from '../../../helpers/fake-hub.ts';
import { goldenDir } from '../../../helpers/golden.ts';
import { waitFor } from '../../../helpers/wait-for.ts';

const REPO = 'OmniGen2/OmniGen2';
let hub: FakeHub;
let modelsDir: string;
let events: { event: keyof Events; payload: unknown }[];

beforeEach(async () => {
  hub = await FakeHub.start({ [REPO]: folderAsRepo(join(goldenDir(), 'e2e', 'model')) });
  modelsDir = await mkdtemp(join(tmpdir(), 'atelier-api-'));
  events = [];
});
afterEach(async () => {
  await hub.close();
  await rm(modelsDir, { recursive: true, force: true });
});

const api = () =>
  createModelsApi({
    manager: new ModelManager({
      modelsDir,
      hub: () => ({ endpoint: hub.url }),
      tuning: { freeSpace: async () => 1e15 },
    }),
    emit: (event, payload) => events.push({ event, payload }),
  });

describe('models IPC', () => {
  test('download answers once started; progress and the final state arrive as events', async () => {
    const models = api();
    const started = await models.download({ repo: REPO });
    expect(started).toMatchObject({ ok: true, value: { repo: REPO, state: 'downloading' } });
    await waitFor(
      () => events.some((e) => e.event === 'model.state' && (e.payload as Events['model.state']).state === 'ready'),
      'the ready state',
    );
    expect(events.some((e) => e.event === 'download.progress')).toBe(true);
    expect(await models.list()).toMatchObject({ ok: true, value: [{ repo: REPO, state: 'ready' }] });
    expect(await models.verify(REPO)).toMatchObject({ ok: true, value: { state: 'ready' } });
    expect(await models.remove(REPO)).toEqual({ ok: true, value: undefined });
  });

  test('failures come back as typed errors with the precise reason', async () => {
    const models = api();
    expect(await models.download({ repo: 'nobody/nothing' })).toMatchObject({
      ok: false,
      error: { code: 'not-found', detail: { reason: 'not-found' } },
    });
    expect(await models.pause(REPO)).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await models.remove(REPO)).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await models.catalogue()).toMatchObject({ ok: true, value: [{ repo: REPO, title: 'OmniGen2' }] });
  });

  test('payloads are checked before the service sees them', () => {
    expect(modelsParsers.download([{ repo: REPO }])).toEqual([{ repo: REPO, revision: undefined }]);
    expect(modelsParsers.download([{ repo: REPO, revision: 'refs/pr/3' }])).toEqual([
      { repo: REPO, revision: 'refs/pr/3' },
    ]);
    expect(() => modelsParsers.download([{ repo: '../../etc' }])).toThrow(/repository id/);
    expect(() => modelsParsers.download([{ repo: REPO, revision: '../x' }])).toThrow(/branch, tag or commit/);
    expect(() => modelsParsers.download([{ repo: REPO, extra: 1 }])).toThrow(/not expected/);
    expect(() => modelsParsers.cancel([{ repo: REPO }])).toThrow(/true or false/);
    expect(() => modelsParsers.remove([REPO, 'more'])).toThrow(/expected 1 argument/);
    expect(modelsParsers.import([{ folder: '/data/hf', repo: undefined }])).toEqual([
      { folder: '/data/hf', repo: undefined },
    ]);
  });
});
