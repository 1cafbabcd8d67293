/// <reference types="svelte" />
// ↑ tsconfig.e2e.json type-checks these tests with plain tsc, which must know the runes of the .svelte.ts modules they import.
import type { AtelierApi, CropRect, Events, ProjectDocument } from '../../../src-main/ipc/contract.ts';
import type { ImageCodec } from '../../../src-renderer/src/lib/workspace/image-store.ts';

/**
 * A PNG-shaped header (signature + IHDR size fields) that the fake codec reads back; enough for the renderer's
 * state classes, which never look at pixels themselves. `tag` makes otherwise equal images distinct.
 */
export function fakePng(width: number, height: number, tag = 0): Uint8Array {
  const b = new Uint8Array(28);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(b.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(24, tag);
  return b;
}

export function fakeFile(name: string, width: number, height: number, tag = 0): File {
  return new File([fakePng(width, height, tag) as BlobPart], name, { type: 'image/png' });
}

/** Reads fakePng headers; crops answer a fakePng of the rectangle's size. */
export const fakeCodec: ImageCodec & { crops: CropRect[] } = {
  crops: [],
  async measure(bytes) {
    if (bytes[1] !== 0x50 || bytes.length < 24) throw new Error('not an image');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    return { width: view.getUint32(16), height: view.getUint32(20) };
  },
  async crop(_bytes, _type, rect) {
    fakeCodec.crops.push(rect);
    return fakePng(rect.width, rect.height, rect.x * 10_000 + rect.y);
  },
  async toPng(bytes) {
    return fakePng(bytes.length, 1);
  },
};

type Listener = (payload: never) => void;

/** An AtelierApi whose methods are the given overrides (others throw) and whose events the test emits. */
export function fakeApi(methods: { [N in keyof AtelierApi]?: Partial<AtelierApi[N]> } = {}) {
  const listeners = new Map<string, Set<Listener>>();
  const calls: { method: string; args: unknown[] }[] = [];
  const api = new Proxy({} as AtelierApi, {
    get(_t, ns: string) {
      if (ns === 'on') {
        return (event: string, fn: Listener) => {
          if (!listeners.has(event)) listeners.set(event, new Set());
          listeners.get(event)!.add(fn);
          return () => listeners.get(event)!.delete(fn);
        };
      }
      return new Proxy(
        {},
        {
          get(_u, m: string) {
            return (...args: unknown[]) => {
              calls.push({ method: `${ns}.${m}`, args });
              const impl = (methods as Record<string, Record<string, (...a: unknown[]) => unknown>>)[ns]?.[m];
              if (!impl) throw new Error(`fake api: ${ns}.${m} was not expected`);
              return impl(...args);
            };
          },
        },
      );
    },
  });
  const emit = <E extends keyof Events>(event: E, payload: Events[E]) =>
    listeners.get(event)?.forEach((fn) => fn(payload as never));
  const listenerCount = () => [...listeners.values()].reduce((n, s) => n + s.size, 0);
  return { api, emit, calls, listenerCount };
}

/** What projects.create answers: a new project with nothing in it. */
export function emptyDocument(id = 'project-1'): ProjectDocument {
  return {
    id,
    createdAt: '2026-11-26T12:00:00.000Z',
    modifiedAt: '2026-11-26T12:00:00.000Z',
    appVersion: '0.1.0',
    workspace: {
      inputs: [],
      prompt: '',
      negativePrompt: '',
      model: '',
      canvas: { view: 'single', zoom: 1, pan: [0, 0], selectedResultIds: [] },
      parameters: {
        seed: 0,
        steps: 50,
        textGuidance: 5,
        imageGuidance: 2,
        cfgRange: [0, 1],
        scheduler: 'euler',
        width: 1024,
        height: 1024,
        maxPixels: 1024 * 1024,
        maxSideLength: 1024,
        numImages: 1,
        acceleration: 'none',
      },
    },
    results: [],
    history: [],
    reflections: [],
    conversations: [],
  };
}
