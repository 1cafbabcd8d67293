// Child process for the kill test: downloads one file with several ranged connections until the parent kills it
// with SIGKILL (no cleanup, no last journal save: exactly what a crash or a killed app leaves on disk).
import { downloadFile, type FileDownloadOptions } from '../../../../src-main/services/models/file-download.ts';

const options = JSON.parse(process.argv[2]!) as Omit<FileDownloadOptions, 'signal'>;
await downloadFile({ ...options, signal: new AbortController().signal });
