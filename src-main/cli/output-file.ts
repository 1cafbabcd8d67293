import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../services/projects/atomic-write.ts';
import { nodeFileSystem } from '../services/projects/file-system.ts';
import { CliError } from './command.ts';

/** Writes a file a command produces (a PNG, a round, a record): folder created, atomic, a failure is one line. */
export async function writeOutputFile(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(nodeFileSystem, path, [bytes]);
  } catch (e) {
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
  }
}
