import type { ImageHash, ProjectDocument, ProjectSummary } from '../../ipc/contract.ts';
import { writeFileAtomic } from './atomic-write.ts';
import type { FileSystem } from './file-system.ts';
import { fromFsError, ProjectError } from './project-errors.ts';
import { decodeProject, encodeProject, type DecodedProject } from './project-format.ts';

/** Reads and fully verifies a project file. */
export async function readProjectFile(fs: FileSystem, path: string): Promise<DecodedProject & { sizeBytes: number }> {
  const info = await fs.stat(path).catch((e: unknown) => {
    throw fromFsError(e, path, 'read');
  });
  if (info === null) throw new ProjectError('not-found', 'no-file', `no file at ${path}`, { path });
  if (!info.isFile) throw new ProjectError('not-found', 'no-file', `${path} is a folder, not a project file`, { path });
  const bytes = await fs.readFile(path).catch((e: unknown) => {
    throw fromFsError(e, path, 'read');
  });
  return { ...decodeProject(bytes, path), sizeBytes: bytes.byteLength };
}

/** Writes atomically: `path` keeps its previous bytes unless the whole new file reached the disk. */
export async function writeProjectFile(
  fs: FileSystem,
  path: string,
  document: ProjectDocument,
  images: ReadonlyMap<ImageHash, Uint8Array>,
): Promise<number> {
  const { chunks, sizeBytes } = encodeProject(document, images);
  await writeFileAtomic(fs, path, chunks);
  return sizeBytes;
}

export function summarizeProject(path: string, project: DecodedProject & { sizeBytes: number }): ProjectSummary {
  const { document: doc } = project;
  return {
    path,
    formatVersion: project.formatVersion,
    sizeBytes: project.sizeBytes,
    createdAt: doc.createdAt,
    modifiedAt: doc.modifiedAt,
    appVersion: doc.appVersion,
    prompt: doc.workspace.prompt,
    counts: {
      inputs: doc.workspace.inputs.length,
      results: doc.results.length,
      history: doc.history.length,
      reflections: doc.reflections.length,
      rounds: doc.reflections.reduce((n, s) => n + s.rounds.length, 0),
      images: project.images.size,
    },
  };
}
