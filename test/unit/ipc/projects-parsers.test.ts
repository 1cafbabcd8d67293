import { describe, expect, test } from 'vitest';
import { METHODS } from '../../../src-main/ipc/contract.ts';
import { projectsParsers } from '../../../src-main/ipc/parsers/projects.ts';
import { PayloadError } from '../../../src-main/ipc/validate.ts';
import { sampleProject } from '../services/projects/project-fixtures.ts';

describe('projects payload checks', () => {
  test('cover every projects method of the contract', () => {
    expect(Object.keys(projectsParsers).sort()).toEqual(Object.keys(METHODS.projects).sort());
  });

  test('a well-formed save passes unchanged', () => {
    const req = sampleProject();
    expect(projectsParsers.saveAs([{ path: '/home/me/fox.atelier', ...req }])).toEqual([
      { path: '/home/me/fox.atelier', ...req },
    ]);
  });

  test.each([
    ['a relative path', () => projectsParsers.open(['fox.atelier']), /absolute path/],
    [
      'a document field of the wrong type',
      () => {
        const { document, images } = sampleProject();
        return projectsParsers.save([
          { document: { ...document, workspace: { ...document.workspace, prompt: 5 } }, images },
        ]);
      },
      /argument 1\.document\.workspace\.prompt must be text/,
    ],
    [
      'a broken reference',
      () => {
        const { document, images } = sampleProject();
        return projectsParsers.autosave([
          {
            document: { ...document, history: [{ ...document.history[0]!, resultIds: ['ghost'] }] },
            images,
            immediate: true,
          },
        ]);
      },
      /refers to result "ghost"/,
    ],
    [
      'an image hash that is not sha256',
      () => projectsParsers.save([{ ...sampleProject(), images: [{ hash: 'abc', bytes: new Uint8Array(1) }] }]),
      /sha256/,
    ],
    ['a recovery id that could leave its folder', () => projectsParsers.recover(['../x']), /an id of/],
    ['extra arguments', () => projectsParsers.create(['surprise']), /expected 0 argument/],
  ])('%s → invalid-request', (_what, call, message) => {
    expect(call).toThrow(PayloadError);
    expect(call).toThrow(message);
  });
});
