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

// Bytes written after which a background fdatasync starts; see startWriteback below.
const WRITEBACK_BYTES = 128 * 1024 * 1024;

export const fsSink: FileSink = {
  async open(path) {
    const file = await open(path, constants.O_RDWR | constants.O_CREAT);
    let dirty = 0;
    let writeback: Promise<void> | null = null;
    let writebackError: { error: unknown } | null = null;
    // Not an fsync per chunk: nothing waits for this one. Left alone, the kernel holds a whole file's pages dirty
    // until the final fsync, which then writes a gigabyte while the download looks finished (~0.5 s per GB measured).
    // Started every WRITEBACK_BYTES on a threadpool thread, it lets the disk work while the network does, so the
    // final fsync finds little left. At most one runs; writes go on meanwhile (they never await it). The final fsync
    // in close() still runs and still precedes the rename. A failure here is kept and thrown by close(): Linux reports
    // a writeback error to the first fsync on the descriptor only, so the final one might not see it again.
    const startWriteback = () => {
      if (writeback || dirty < WRITEBACK_BYTES) return;
      dirty = 0;
      writeback = file
        .datasync()
        .catch((error: unknown) => {
          writebackError ??= { error };
        })
        .finally(() => {
          writeback = null;
        });
    };
    return {
      async write(chunks, position) {
        const total = chunks.reduce((n, c) => n + c.byteLength, 0);
        const done = (await file.writev(chunks, position)).bytesWritten;
        dirty += done;
        startWriteback();
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
          await writeback;
          if (sync && writebackError) throw writebackError.error;
          if (sync) await file.sync();
        } finally {
          await file.close();
        }
      },
    };
  },
};
