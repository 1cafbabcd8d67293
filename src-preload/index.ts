// The whole preload: exposes the contract's API as `window.api`, and nothing else (no raw ipcRenderer).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { makeApi } from '../src-main/ipc/contract.ts';

contextBridge.exposeInMainWorld(
  'api',
  makeApi({
    invoke: (channel, args) => ipcRenderer.invoke(channel, ...args),
    subscribe: (channel, listener) => {
      const forward = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
      ipcRenderer.on(channel, forward);
      return () => ipcRenderer.off(channel, forward);
    },
  }),
);
