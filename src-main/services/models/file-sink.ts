import { open } from 'node:fs/promises';

/** Where downloaded bytes go. The default writes files; tests inject one that runs out of space. */
export interface FileSink {
  open(path: string, mode: 'append' | 'truncate'): Promise<SinkHandle>;
}

export interface SinkHandle {
  write(chunks: Uint8Array[]): Promise<void>;
  /** Flushes to stable storage and closes: a file is renamed into place only after its bytes are durable. */
  close(): Promise<void>;
}

export const fsSink: FileSink = {
  async open(path, mode) {
    const file = await open(path, mode === 'append' ? 'a' : 'w');
    return {
      async write(chunks) {
        const total = chunks.reduce((n, c) => n + c.byteLength, 0);
        const done = (await file.writev(chunks)).bytesWritten;
        if (done === total) return;
        // A short write is legal (signals, quotas): finish it, so no byte is silently dropped. Rare, so a copy is fine.
        const rest = Buffer.concat(chunks).subarray(done);
        for (let off = 0; off < rest.byteLength;) {
          const { bytesWritten } = await file.write(rest, off);
          if (bytesWritten === 0) throw Object.assign(new Error(`no progress writing ${path}`), { code: 'ENOSPC' });
          off += bytesWritten;
        }
      },
      async close() {
        try {
          await file.sync();
        } finally {
          await file.close();
        }
      },
    };
  },
};
