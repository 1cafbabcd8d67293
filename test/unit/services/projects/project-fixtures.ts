// Shared builders for the project tests: a document that uses every part of the schema, and file systems that
// fail on cue (full disk, read-only volume) where a real machine cannot be made to.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProjectDocument, ProjectImage, Recipe } from '../../../../src-main/ipc/contract.ts';
import { nodeFileSystem, type FileSystem } from '../../../../src-main/services/projects/file-system.ts';
import { createProjectsApi, type ProjectsDeps } from '../../../../src-main/services/projects/projects-api.ts';
import { DEFAULT_PARAMETERS } from '../../../../src-main/services/projects/empty-document.ts';

export function image(bytes: Uint8Array = randomBytes(256)): ProjectImage {
  return { hash: createHash('sha256').update(bytes).digest('hex'), bytes };
}

export function recipe(over: Partial<Recipe> = {}): Recipe {
  return {
    ...DEFAULT_PARAMETERS,
    prompt: 'a red fox in the snow',
    negativePrompt: 'blurry',
    seed: 42,
    inputImages: [],
    modelId: 'OmniGen2',
    precision: 'bf16',
    appVersion: '0.1.0',
    ...over,
  };
}

/** A project with two inputs, two results (one image shared by a reflection round), history and a branching reflection tree. */
export function sampleProject(): { document: ProjectDocument; images: ProjectImage[] } {
  const [in1, in2, out1, out2] = [image(), image(), image(), image()];
  const r = recipe({ inputImages: [in1.hash, in2.hash] });
  const round = {
    seed: 7,
    parameters: DEFAULT_PARAMETERS,
    inputImages: [] as string[],
    modelId: 'OmniGen2',
    checklist: [
      { question: 'Is there a fox?', tag: 'object' as const, probability: 0.97, passed: true },
      { question: 'Is the fox red?', tag: 'color' as const, probability: 0.31, passed: false },
      { question: 'Is the fox left of the tree?', tag: 'position' as const, probability: null, passed: false },
    ],
    timings: { generateMs: 41_000, critiqueMs: 900, fixMs: 300 },
  };
  const document: ProjectDocument = {
    id: 'b3c1a0de-0000-4000-8000-000000000001',
    createdAt: '2026-11-20T10:00:00.000Z',
    modifiedAt: '2026-11-20T10:05:00.000Z',
    appVersion: '0.1.0',
    workspace: {
      inputs: [
        { hash: in1.hash, label: 'the fox', crop: { x: 10, y: 20, width: 300, height: 200 } },
        { hash: in2.hash, label: 'snowy forest', crop: null },
      ],
      prompt: 'Put the fox from image 1 into the forest of image 2 — in winter ❄',
      negativePrompt: 'blurry',
      parameters: { ...DEFAULT_PARAMETERS, seed: 42, cfgRange: [0, 0.6] },
      model: 'OmniGen2',
      canvas: { view: 'compare', zoom: 1.5, pan: [-120, 40.5], selectedResultIds: ['res-1'] },
    },
    results: [
      {
        id: 'res-1',
        image: out1.hash,
        width: 1024,
        height: 768,
        recipe: r,
        createdAt: '2026-11-20T10:01:00.000Z',
        starred: true,
      },
      {
        id: 'res-2',
        image: out2.hash,
        width: 1024,
        height: 768,
        recipe: { ...r, seed: 43 },
        createdAt: '2026-11-20T10:02:00.000Z',
        starred: false,
      },
    ],
    history: [
      {
        id: 'h-1',
        kind: 'generate',
        at: '2026-11-20T10:01:00.000Z',
        label: 'Generate',
        resultIds: ['res-1'],
        reflectionId: null,
      },
      {
        id: 'h-2',
        kind: 'reflect',
        at: '2026-11-20T10:02:00.000Z',
        label: 'Reflect',
        resultIds: ['res-2'],
        reflectionId: 'refl-1',
      },
    ],
    reflections: [
      {
        id: 'refl-1',
        prompt: 'a red fox',
        createdAt: '2026-11-20T10:01:30.000Z',
        threshold: 0.5,
        bestRoundId: 'round-1',
        stopReason: 'done',
        rounds: [
          {
            ...round,
            id: 'round-0',
            parentId: null,
            mode: 'generate',
            text: 'a red fox',
            outputImage: out1.hash,
            fix: { raw: 'EDIT: Make the fox red.', parsed: 'Make the fox red.' },
            score: { passed: 1, total: 3, meanProbability: 0.64 },
          },
          {
            ...round,
            id: 'round-1',
            parentId: 'round-0',
            mode: 'edit',
            text: 'Make the fox red.',
            inputImages: [out1.hash],
            outputImage: out2.hash,
            fix: null,
            score: { passed: 3, total: 3, meanProbability: 0.9 },
          },
          {
            ...round,
            id: 'round-2',
            parentId: 'round-0',
            mode: 'regenerate',
            text: 'a red fox. the fox is red',
            outputImage: null,
            checklist: [],
            fix: { raw: 'I think it is fine', parsed: null },
            score: null,
            timings: { generateMs: null, critiqueMs: null, fixMs: null },
          },
        ],
      },
    ],
    conversations: [
      {
        id: 'chat-1',
        createdAt: '2026-11-20T10:03:00.000Z',
        images: [in1.hash, in2.hash],
        messages: [
          {
            id: 'm-1',
            role: 'user',
            text: 'What is in image 2?',
            at: '2026-11-20T10:03:00.000Z',
            stopped: false,
            resultId: null,
          },
          {
            id: 'm-2',
            role: 'assistant',
            text: 'A snowy for',
            at: '2026-11-20T10:03:01.000Z',
            stopped: true,
            resultId: null,
          },
          {
            id: 'm-3',
            role: 'user',
            text: 'Draw the fox there.',
            at: '2026-11-20T10:03:05.000Z',
            stopped: false,
            resultId: null,
          },
          {
            id: 'm-4',
            role: 'assistant',
            text: '<|img|>',
            at: '2026-11-20T10:03:30.000Z',
            stopped: false,
            resultId: 'res-1',
          },
        ],
      },
    ],
  };
  return { document, images: [in1, in2, out1, out2] };
}

export async function tempDir(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-projects-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Every file under `dir` with its bytes, to prove that a failed operation changed nothing on disk. */
export async function snapshotDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path.slice(dir.length)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return out;
}

/** A copy of `bytes` with the bits of one byte flipped: bit rot, a bad sector, a botched transfer. */
export function flipByte(bytes: Uint8Array, at: number, mask = 0x01): Buffer {
  const copy = Buffer.from(bytes);
  const i = at < 0 ? copy.length + at : at;
  copy[i] = copy.readUInt8(i) ^ mask;
  return copy;
}

const errno = (code: string, syscall: string) =>
  Object.assign(new Error(`${code}: injected by the test, ${syscall}`), { code, syscall });

/** nodeFileSystem whose writes fail with `code` once `afterBytes` bytes of a file are written (the disk fills up mid-file). */
export function failingWrites(code: 'ENOSPC' | 'EROFS' | 'EACCES', afterBytes = 0): FileSystem {
  return {
    ...nodeFileSystem,
    async createExclusive(path) {
      if (code !== 'ENOSPC') throw errno(code, 'open');
      const file = await nodeFileSystem.createExclusive(path);
      let written = 0;
      return {
        ...file,
        async write(data) {
          const room = Math.max(0, afterBytes - written);
          if (data.byteLength > room) {
            await file.write(data.subarray(0, room)); // a real full disk also leaves a partial file behind
            throw errno(code, 'write');
          }
          written += data.byteLength;
          await file.write(data);
        },
      };
    },
  };
}

export function testApi(userDataDir: string, over: Partial<ProjectsDeps> = {}) {
  let recent: string[] = [];
  const errors: unknown[] = [];
  const api = createProjectsApi({
    userDataDir,
    appVersion: '0.1.0-test',
    recent: {
      get: () => recent,
      set: (paths) => {
        recent = paths;
      },
    },
    autosaveIntervalMs: () => 60_000,
    onBackgroundError: (e) => errors.push(e),
    ...over,
  });
  return { api, errors, recentPaths: () => recent };
}

/** Unwraps a Result, failing the test with the error if there is one. */
export async function value<T>(p: Promise<{ ok: true; value: T } | { ok: false; error: unknown }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(`expected success, got ${JSON.stringify(r.error)}`);
  return r.value;
}
