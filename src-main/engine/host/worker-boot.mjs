// Boots the TypeScript worker entry through tsx when running from sources (tests, `npm run atelier`).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
