// Child process for the crash test: saves a large project over an existing file, reports "mid-save" on stdout
// once part of the new file is on disk, then stalls inside the write until the parent kills it with SIGKILL.
import { createHash } from 'node:crypto';
import { nodeFileSystem, type FileSystem } from '../../../../src-main/services/projects/file-system.ts';
import { createProjectsApi } from '../../../../src-main/services/projects/projects-api.ts';
import { sampleProject } from './project-fixtures.ts';

const [path, userDataDir] = process.argv.slice(2) as [string, string];
const stallingFs: FileSystem = {
  ...nodeFileSystem,
  async createExclusive(tmp) {
    const file = await nodeFileSystem.createExclusive(tmp);
    let chunks = 0;
    return {
      ...file,
      async write(data) {
        await file.write(data);
        if (++chunks === 2) {
          await file.sync(); // make the partial temp file real, as a crash after a flush would leave it
          process.stdout.write('mid-save\n');
          await new Promise(() => {}); // never resolves: the process dies here
        }
      },
    };
  },
};

const api = createProjectsApi({
  userDataDir,
  appVersion: 'crash',
  recent: { get: () => [], set: () => {} },
  autosaveIntervalMs: () => 60_000,
  onBackgroundError: () => {},
  fs: stallingFs,
});
const { document, images } = sampleProject();
// 8 × 4 MiB of images: a save that takes a while, like a real project full of results.
const big = Array.from({ length: 8 }, (_, i) => new Uint8Array(4 * 1024 * 1024).fill(i + 1));
const bigImages = big.map((bytes) => ({ hash: createHash('sha256').update(bytes).digest('hex'), bytes }));
const inputs = bigImages.map((i, n) => ({ hash: i.hash, label: `big ${n}`, crop: null }));
await api.open(path);
await api.save({
  document: { ...document, workspace: { ...document.workspace, inputs } },
  images: [...images, ...bigImages],
});
process.stdout.write('save finished (the test expected to kill it first)\n');
