import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { OpenRequests, projectPathFromArgv } from '../../../src-main/electron/open-requests.ts';

const packaged = { cwd: '/home/ada', fromSource: false };
const fromSource = { cwd: '/home/ada', fromSource: true };

describe('projectPathFromArgv', () => {
  test('the packaged app: the file after the executable', () => {
    expect(projectPathFromArgv(['/opt/Atelier/atelier', '/home/ada/work.atelier'], packaged)).toBe(
      '/home/ada/work.atelier',
    );
  });

  test('run from source: the app folder is not a project', () => {
    expect(projectPathFromArgv(['/x/electron', '.', 'work.atelier'], fromSource)).toBe('/home/ada/work.atelier');
    expect(projectPathFromArgv(['/x/electron', '.'], fromSource)).toBeNull();
  });

  test('Chromium switches among the arguments are skipped, the extension is matched in any case', () => {
    const argv = [
      '/opt/Atelier/atelier',
      '--allow-file-access-from-files',
      '/p/Plan.ATELIER',
      '--original-process-start-time=1',
    ];
    expect(projectPathFromArgv(argv, packaged)).toBe('/p/Plan.ATELIER');
  });

  test('a file:// URL from a Linux file manager becomes a path', () => {
    const url = pathToFileURL('/home/ada/my project.atelier').href;
    expect(projectPathFromArgv(['/opt/Atelier/atelier', url], packaged)).toBe('/home/ada/my project.atelier');
  });

  test('relative paths resolve against the launching folder; the last project named wins', () => {
    expect(
      projectPathFromArgv(['/opt/Atelier/atelier', 'a.atelier', 'sub/b.atelier'], { cwd: '/w', fromSource: false }),
    ).toBe('/w/sub/b.atelier');
  });

  test('no project: other files and an empty command line', () => {
    expect(projectPathFromArgv(['/opt/Atelier/atelier', '/p/photo.png', 'notes.atelier.txt'], packaged)).toBeNull();
    expect(projectPathFromArgv(['/opt/Atelier/atelier'], packaged)).toBeNull();
    expect(projectPathFromArgv([], packaged)).toBeNull();
  });
});

describe('OpenRequests', () => {
  test('a request before the window waits, and only the latest one is delivered on attach', () => {
    const q = new OpenRequests();
    const got: string[] = [];
    q.push('/a.atelier');
    q.push('/b.atelier');
    expect(got).toEqual([]);
    q.attach((p) => got.push(p));
    expect(got).toEqual(['/b.atelier']);
  });

  test('once attached, requests go at once; after detach they wait for the next window', () => {
    const q = new OpenRequests();
    const first: string[] = [];
    const second: string[] = [];
    q.attach((p) => first.push(p));
    q.push('/a.atelier');
    q.detach();
    q.push('/b.atelier');
    expect(first).toEqual(['/a.atelier']);
    q.attach((p) => second.push(p));
    expect(second).toEqual(['/b.atelier']);
    q.attach((p) => second.push(p));
    expect(second).toEqual(['/b.atelier']);
  });
});
