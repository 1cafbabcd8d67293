import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyDocument } from '../../../src-main/services/projects/empty-document.ts';
import { encodeProject } from '../../../src-main/services/projects/project-format.ts';

/** Writes `<dir>/<name>.atelier`: an empty project with only a prompt, as Atelier writes it. Returns its path. */
export function writeProjectFile(dir: string, name: string, prompt: string): string {
  const document = emptyDocument({
    id: name.toLowerCase(),
    now: new Date('2026-12-01T10:00:00Z'),
    appVersion: '0.1.0',
  });
  document.workspace.prompt = prompt;
  const path = join(dir, `${name}.atelier`);
  writeFileSync(path, Buffer.concat(encodeProject(document, new Map()).chunks));
  return path;
}
