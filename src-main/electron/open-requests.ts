// Project files the operating system asks Atelier to open: a double-clicked `.atelier` file, "Open with", or a
// file dropped on the dock icon. Pure (no `electron` import) so that it is tested without the Electron binary.
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT = /\.atelier$/i;

/**
 * The project file named on a command line, or null. `argv` is `process.argv` of this or of a second instance:
 * the executable, then (when run from source as `electron .`) the app folder, then the arguments. Chromium
 * inserts its own `--switches` among them on Windows, and Linux file managers may pass `file://` URLs (the
 * desktop entry's `%U`). Relative paths are resolved against the folder the launch came from.
 */
export function projectPathFromArgv(
  argv: readonly string[],
  launch: { cwd: string; fromSource: boolean },
): string | null {
  const args = argv.slice(launch.fromSource ? 2 : 1).filter((a) => !a.startsWith('-'));
  const files = args.map((a) => (/^file:\/\//i.test(a) ? fileURLToPath(a) : a)).filter((a) => PROJECT.test(a));
  const last = files.at(-1);
  if (last === undefined) return null;
  return isAbsolute(last) ? last : resolve(launch.cwd, last);
}

/**
 * Requests held until the window's page can take them: a launch by double-click and macOS's `open-file`
 * arrive before the window exists. One project is open at a time, so only the latest waiting request counts.
 */
export class OpenRequests {
  #waiting: string | null = null;
  #deliver: ((path: string) => void) | null = null;

  push(path: string): void {
    if (this.#deliver) this.#deliver(path);
    else this.#waiting = path;
  }

  /** The window's page is loaded and listening: the waiting request, if any, goes now; later ones at once. */
  attach(deliver: (path: string) => void): void {
    this.#deliver = deliver;
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting !== null) deliver(waiting);
  }

  /** The window is gone (macOS keeps the app running): requests wait for the next one. */
  detach(): void {
    this.#deliver = null;
  }
}
