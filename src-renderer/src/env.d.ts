import type { AtelierApi } from '../../src-main/ipc/contract.ts';

declare global {
  interface Window {
    readonly api: AtelierApi;
  }
}
