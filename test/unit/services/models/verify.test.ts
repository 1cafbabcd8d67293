import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkFreeSpace } from '../../../../src-main/services/models/disk-space.ts';
import { backoffMs } from '../../../../src-main/services/models/retry.ts';
import { SpeedMeter } from '../../../../src-main/services/models/speed-meter.ts';
import { FileHasher, verifyFiles } from '../../../../src-main/services/models/verify.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atelier-verify-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('verify', () => {
  test('the git blob id matches `git hash-object`, whatever the chunking', async () => {
    const content = randomBytes(70_001);
    await writeFile(join(dir, 'f.json'), content);
    const gitOid = execFileSync('git', ['hash-object', join(dir, 'f.json')], { encoding: 'utf8' }).trim();
    for (const chunk of [1, 4096, 70_001]) {
      const h = new FileHasher({ path: 'f.json', size: content.length, gitOid });
      for (let i = 0; i < content.length; i += chunk) h.update(content.subarray(i, i + chunk));
      expect(h.problem()).toBeNull();
    }
  });

  test('reports missing, wrong-size and altered files by path', async () => {
    const good = Buffer.from('hello');
    await writeFile(join(dir, 'good'), good);
    await writeFile(join(dir, 'short'), 'hell');
    await writeFile(join(dir, 'altered'), 'hellO');
    const sha256 = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'; // sha256("hello")
    const problems = await verifyFiles(
      dir,
      ['good', 'short', 'altered', 'gone'].map((path) => ({ path, size: 5, sha256 })),
    );
    expect(problems.map((p) => [p.path, p.problem])).toEqual([
      ['short', 'size'],
      ['altered', 'checksum'],
      ['gone', 'missing'],
    ]);
  });
});

describe('disk space, backoff and speed', () => {
  test('the disk-full message names what is needed and what is free', async () => {
    const check = checkFreeSpace(
      { dir: '/models', downloadBytes: 15_900_000_000, cacheBytes: 15_400_000_000 },
      async () => 20_000_000_000,
    );
    await expect(check).rejects.toThrow(
      'not enough disk space in /models: 31.3 GB needed (15.9 GB still to download + 15.4 GB for the converted-weight cache), 20.0 GB free',
    );
    await expect(check).rejects.toMatchObject({
      code: 'disk-full',
      detail: { neededBytes: 31_300_000_000, freeBytes: 20_000_000_000 },
    });
  });

  test('backoff grows exponentially with jitter and is capped', () => {
    const policy = { attempts: 8, baseDelayMs: 1000, maxDelayMs: 30_000 };
    expect([1, 2, 3, 10].map((n) => backoffMs(n, policy, () => 1))).toEqual([1000, 2000, 4000, 30_000]);
    expect(backoffMs(3, policy, () => 0)).toBe(2000);
  });

  test('speed follows the last seconds and falls while nothing arrives', () => {
    let now = 0;
    const meter = new SpeedMeter(5000, () => now);
    for (; now <= 10_000; now += 100) meter.add(100_000); // 1 MB/s
    expect(Math.abs(meter.bytesPerSec() - 1_000_000)).toBeLessThan(30_000); // window ≈ 5 s of 1 MB/s
    expect(Math.abs(meter.etaMs(5_000_000)! - 5000)).toBeLessThan(200);
    now += 5000;
    expect(meter.bytesPerSec()).toBeLessThan(600_000);
  });
});
