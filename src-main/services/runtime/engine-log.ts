import { createWriteStream, mkdirSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

// The engine's output is onnxruntime's and the GPU driver's own lines: useful when something breaks, never read
// back by the app. One previous file is kept beside the current one, so the folder stays small however long the app
// is used, and the run before a crash is still there after a restart.
export const ENGINE_LOG_MAX_BYTES = 8 * 1024 * 1024;

/** Opens the engine log for appending, first moving it to `<path>.1` when it has grown past `maxBytes`. */
export function openEngineLog(path: string, maxBytes = ENGINE_LOG_MAX_BYTES): WriteStream {
  mkdirSync(dirname(path), { recursive: true });
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    // No log yet.
  }
  if (size > maxBytes) renameSync(path, `${path}.1`);
  const log = createWriteStream(path, { flags: 'a' });
  log.write(`--- engine started ${new Date().toISOString()}\n`);
  return log;
}
