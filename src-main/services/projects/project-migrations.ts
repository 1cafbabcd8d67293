// Older project files are read by upgrading their manifest, one format version at a time, before the schema
// check of the current version; saving writes the current version. Each step only adds what its version
// introduced, so a file keeps everything it had.

type Manifest = Record<string, unknown>;

/** Version n → n + 1, indexed by n. */
const STEPS: Record<number, (m: Manifest) => Manifest> = {
  // Format 2 added chat conversations.
  1: (m) => ({ ...m, conversations: m['conversations'] ?? [] }),
};

/** The manifest of a `fromVersion` file in the shape of format `toVersion`; anything not an object is left to the schema check. */
export function migrateManifest(manifest: unknown, fromVersion: number, toVersion: number): unknown {
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return manifest;
  let m = manifest as Manifest;
  for (let v = fromVersion; v < toVersion; v++) {
    const step = STEPS[v];
    if (!step) throw new RangeError(`no migration from project format ${v} to ${v + 1}`);
    m = step(m);
  }
  return m;
}
