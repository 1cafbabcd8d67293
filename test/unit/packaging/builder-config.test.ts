// The packaging configuration, checked with electron-builder's own loader, schema and file matchers: packaging
// itself needs the Electron binary and each target's tools, which cannot be fetched here (docs/release.md).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Configuration, PlatformSpecificBuildOptions } from 'app-builder-lib';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { DebugLogger } from 'builder-util';
import { beforeAll, describe, expect, test } from 'vitest';
import { APP_FILES } from '../../../src-main/electron/app-files.ts';
import { ICNS_FILE, ICO_FILE, PNG_DIR, PNG_SIZES, pngPath } from '../../../scripts/icons/icon-set.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const CONFIG = 'build/electron-builder.yml';

type Stat = { isDirectory(): boolean; moduleFullFilePath?: string };
type Filter = (file: string, stat: Stat) => boolean;
interface Matcher {
  from: string;
  createFilter(): Filter;
}
// Internal to app-builder-lib (no typings): the matchers its packager builds for the app's files, for
// node_modules and for asarUnpack. Used exactly as platformPackager.js does.
const fileMatcher = createRequire(import.meta.url)('app-builder-lib/out/fileMatcher.js') as {
  getMainFileMatchers(
    appDir: string,
    destination: string,
    expand: (s: string) => string,
    platform: PlatformSpecificBuildOptions,
    packager: unknown,
    outDir: string,
    isElectronCompile: boolean,
  ): Matcher[];
  getNodeModuleFileMatcher(
    appDir: string,
    destination: string,
    expand: (s: string) => string,
    platform: PlatformSpecificBuildOptions,
    info: unknown,
  ): Matcher;
  getFileMatchers(config: Configuration, name: 'asarUnpack', destination: string, options: object): Matcher[] | null;
};

const TARGETS = { linux: 'linux', mac: 'darwin', win: 'win32' } as const;
type Os = keyof typeof TARGETS;
const DEST = '/packaged/resources/app';

let config: Configuration;
beforeAll(async () => {
  config = await getConfig(root, join(root, CONFIG), null);
});

/** What electron-builder packs for `os` when run on that OS (`${platform}` is the building machine's). */
function packing(os: Os) {
  const platform = (config[os] ?? {}) as PlatformSpecificBuildOptions;
  const expand = (s: string) => s.replaceAll('${platform}', TARGETS[os]).replaceAll('${os}', os);
  const info = {
    isPrepackedAppAsar: false,
    config,
    projectDir: root,
    buildResourcesDir: config.directories?.buildResources ?? 'build',
    debugLogger: new DebugLogger(false),
  };
  const [main] = fileMatcher.getMainFileMatchers(
    root,
    DEST,
    expand,
    platform,
    { info },
    join(root, config.directories?.output ?? 'dist'),
    false,
  );
  const appFilter = main!.createFilter();
  const moduleFilter = fileMatcher.getNodeModuleFileMatcher(root, DEST, expand, platform, info).createFilter();
  const unpack = fileMatcher.getFileMatchers(config, 'asarUnpack', DEST, {
    macroExpander: expand,
    customBuildOptions: platform,
    globalOutDir: join(root, 'dist'),
    defaultSrc: root,
  });
  const unpackFilter = unpack![0]!.createFilter();
  const file = { isDirectory: () => false };
  const dir = { isDirectory: () => true };
  return {
    /** An app file and every folder above it (the copier walks down from the root). */
    packs(rel: string): boolean {
      const parts = rel.split('/');
      return parts.every((_, i) =>
        appFilter(join(root, ...parts.slice(0, i + 1)), i === parts.length - 1 ? file : dir),
      );
    },
    /** A file of a production dependency, as NodeModuleCopyHelper asks about it. */
    packsModuleFile(rel: string): boolean {
      return moduleFilter(join(root, rel), { isDirectory: () => false, moduleFullFilePath: rel });
    },
    unpacks(rel: string): boolean {
      return unpackFilter(join(root, rel), file);
    },
  };
}

describe('build/electron-builder.yml', () => {
  test('loads with electron-builder and passes its schema', async () => {
    expect(config.appId).toBe('app.atelier.desktop');
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  test('a broken configuration fails the same check (it is not vacuous)', async () => {
    await expect(
      validateConfiguration(
        { ...config, linux: { ...config.linux, targets: ['AppImage'] } } as Configuration,
        new DebugLogger(false),
      ),
    ).rejects.toThrow(/does not match the API schema/);
  });

  test('targets: AppImage and .deb, NSIS, an Apple-silicon dmg; `.atelier` files belong to Atelier', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.target).toEqual([{ target: 'dmg', arch: ['arm64'] }]);
    expect(config.fileAssociations).toEqual([expect.objectContaining({ ext: 'atelier', role: 'Editor' })]);
  });

  test('package.json: the scripts build with this file, and main is the main bundle', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      main: string;
      scripts: Record<string, string>;
    };
    expect(pkg.main.replace(/^\.\//, '')).toBe(APP_FILES.main);
    for (const [script, flag] of [
      ['dist', ''],
      ['dist:linux', '--linux'],
      ['dist:win', '--win'],
      ['dist:mac', '--mac'],
    ] as const) {
      expect(pkg.scripts[script]).toMatch(/^electron-vite build && electron-builder /);
      expect(pkg.scripts[script]).toContain(`--config ${CONFIG}`);
      expect(pkg.scripts[script]).toContain(flag);
    }
  });

  test('the icons it names exist, and the Linux icon folder holds every size by name', () => {
    expect(config.win?.icon).toBe(ICO_FILE);
    expect(config.mac?.icon).toBe(ICNS_FILE);
    expect(config.linux?.icon).toBe(PNG_DIR);
    for (const f of [ICO_FILE, ICNS_FILE, ...PNG_SIZES.map(pngPath)]) expect(existsSync(join(root, f)), f).toBe(true);
  });

  for (const os of Object.keys(TARGETS) as Os[]) {
    describe(`packed for ${os}`, () => {
      test('every file the app loads at run time is packed, sources and tests are not', () => {
        const p = packing(os);
        for (const [name, rel] of Object.entries(APP_FILES)) expect(p.packs(rel), `${name}: ${rel}`).toBe(true);
        expect(p.packs('out/main/chunks/services-x1.js'), 'a shared chunk of the main build').toBe(true);
        expect(p.packs('out/renderer/assets/index-x1.js'), 'a renderer asset').toBe(true);
        expect(p.packs('package.json')).toBe(true);
        for (const rel of [
          'src-main/index.ts',
          'test/unit/packaging/icons.test.ts',
          'scripts/icons.ts',
          'resources/icon.svg',
          CONFIG,
          'README.md',
        ]) {
          expect(p.packs(rel), rel).toBe(false);
        }
      });

      test.skipIf(!existsSync(join(root, 'out/main/index.js')))(
        'every file of the build in out/ is packed (needs `npm run build` first)',
        () => {
          const p = packing(os);
          const built = readdirSync(join(root, 'out'), { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'));
          expect(built.length).toBeGreaterThan(4);
          expect(built.filter((rel) => !p.packs(rel))).toEqual([]);
        },
      );

      test('the native parts of onnxruntime-node and sharp are unpacked from the asar', () => {
        const p = packing(os);
        for (const rel of [
          `node_modules/onnxruntime-node/bin/napi-v6/${TARGETS[os]}/x64/onnxruntime_binding.node`,
          'node_modules/sharp/lib/sharp.js',
          `node_modules/@img/sharp-${TARGETS[os]}-x64/lib/sharp-${TARGETS[os]}-x64.node`,
        ])
          expect(p.unpacks(rel), rel).toBe(true);
        expect(p.unpacks('node_modules/electron-store/index.js')).toBe(false);
      });

      test("onnxruntime-node keeps this OS's libraries only", () => {
        const p = packing(os);
        for (const [other, platform] of Object.entries(TARGETS)) {
          const rel = `node_modules/onnxruntime-node/bin/napi-v6/${platform}/x64/onnxruntime_binding.node`;
          expect(p.packsModuleFile(rel), rel).toBe(other === os);
        }
        expect(p.packsModuleFile('node_modules/onnxruntime-node/dist/index.js')).toBe(true);
      });
    });
  }
});
