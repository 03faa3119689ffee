/**
 * The preload: `window.archway`, one function per operation of the contract, built by the same
 * createApi() the Chromium test harness uses. ipcRenderer itself is never exposed, and listeners
 * receive only the payload (never the IPC event, whose `sender` is ipcRenderer).
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createApi, type Transport } from '../../shared/ipc/api';

const transport: Transport = {
  invoke: (channel, payload) => ipcRenderer.invoke(channel, payload),
  on: (channel, listener) => {
    const wrapped = (_event: unknown, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, wrapped);
    return () => {
      ipcRenderer.removeListener(channel, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('archway', createApi(transport));
