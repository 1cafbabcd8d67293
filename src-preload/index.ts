// The whole preload: exposes the contract's API as `window.api`, and nothing else (no raw ipcRenderer). Dropped
// files' paths come from webUtils, which works only here.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { makeApi } from '../src-main/ipc/contract.ts';

contextBridge.exposeInMainWorld(
  'api',
  makeApi(
    {
      invoke: (channel, args) => ipcRenderer.invoke(channel, ...args),
      subscribe: (channel, listener) => {
        const forward = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
        ipcRenderer.on(channel, forward);
        return () => ipcRenderer.off(channel, forward);
      },
    },
    (file) => webUtils.getPathForFile(file),
  ),
);
