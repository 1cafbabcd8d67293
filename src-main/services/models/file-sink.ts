import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Where downloaded bytes go. The default writes files; tests inject one that runs out of space. */
export interface FileSink {
  /** Opens for writing at any position, creating the file if needed and keeping what is there. */
  open(path: string): Promise<SinkHandle>;
}

export interface SinkHandle {
  /** Writes the chunks back to back starting at byte `position`; several writes may be in flight at once. */
  write(chunks: Uint8Array[], position: number): Promise<void>;
  /** Closes, first flushing to stable storage when `sync`: a file is renamed into place only after its bytes are durable. */
  close(opts: { sync: boolean }): Promise<void>;
}

export const fsSink: FileSink = {
  async open(path) {
    const file = await open(path, constants.O_RDWR | constants.O_CREAT);
    return {
      async write(chunks, position) {
        const total = chunks.reduce((n, c) => n + c.byteLength, 0);
        const done = (await file.writev(chunks, position)).bytesWritten;
        if (done === total) return;
        // A short write is legal (signals, quotas): finish it, so no byte is silently dropped. Rare, so a copy is fine.
        const rest = Buffer.concat(chunks).subarray(done);
        for (let off = 0; off < rest.byteLength;) {
          const { bytesWritten } = await file.write(rest, off, rest.byteLength - off, position + done + off);
          if (bytesWritten === 0) throw Object.assign(new Error(`no progress writing ${path}`), { code: 'ENOSPC' });
          off += bytesWritten;
        }
      },
      async close({ sync }) {
        try {
          if (sync) await file.sync();
        } finally {
          await file.close();
        }
      },
    };
  },
};
