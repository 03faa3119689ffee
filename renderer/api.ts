/** The API the views use: `window.archway` (preload or test harness), or one handed in by a test. */
import { createContext, useContext } from 'react';
import type { ArchwayApi } from '../shared/ipc/api';

declare global {
  interface Window {
    archway?: ArchwayApi;
  }
}

export const ApiContext = createContext<ArchwayApi | null>(null);

export function useApi(): ArchwayApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('window.archway is missing: the preload did not run');
  return api;
}
