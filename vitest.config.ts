import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Four suites: unit (fast, pure), conformance (golden data in test/golden), webgpu (golden data on WebGPU), e2e (built renderer in
// headless Chromium with the real handlers bridged). `npm test` runs all of them.
export default defineConfig({
  test: {
    globalSetup: ['test/helpers/golden-guard.ts'],
    projects: [
      // The svelte plugin compiles runes in src-renderer's *.svelte.ts state classes for their unit tests.
      { plugins: [svelte()], test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 } },
      {
        test: {
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      // The golden cases through the WebGPU provider, wherever an adapter exists (lavapipe on CI); skipped with the
      // reason printed elsewhere. One file at a time: lavapipe runs on the CPU cores the other suites use.
      {
        test: {
          name: 'webgpu',
          include: ['test/webgpu/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
