import { createContext } from 'svelte';
import type { Studio } from './studio.svelte.ts';

/** Components reach the app's state through this, never through window.api. */
export const [getStudio, setStudio] = createContext<Studio>();
