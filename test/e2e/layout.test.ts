import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';
import { dropFiles, inputOrder, twoScenes } from './helpers/workspace-fixtures.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the layout suite: ${unavailable}`);

/** Content wider than the window, which would need sideways scrolling (WCAG 1.4.10 reflow). */
const sidewaysOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** Scrolls `target` into view and says why it cannot then be seen and pressed (outside the window, covered), or true. */
async function reachable(target: Locator): Promise<true | string> {
  await target.scrollIntoViewIfNeeded();
  return target.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const box = `${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}×${Math.round(r.height)} in ${window.innerWidth}×${window.innerHeight}`;
    if (
      r.width === 0 ||
      r.height === 0 ||
      r.left < 0 ||
      r.top < 0 ||
      r.right > window.innerWidth + 1 ||
      r.bottom > window.innerHeight + 1
    )
      return `outside the window: ${box}`;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return hit !== null && (hit === el || el.contains(hit))
      ? true
      : `covered by <${hit?.tagName.toLowerCase()} class="${hit?.className}">`;
  });
}

/**
 * 200 % zoom of a 1280×800 window lays the page out in 640×400 CSS pixels, which is what the viewport is set to;
 * 1024×700 is the smallest window we design for.
 */
describe.skipIf(unavailable !== null)('layout at small windows, 200 % zoom and reduced motion', () => {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await AppUnderTest.launch();
    await dropFiles(app.page, await twoScenes());
    while ((await inputOrder(app.page)).length < 2) await new Promise((r) => setTimeout(r, 100));
    await app.page.locator('#prompt').fill('Edit the first image: add the blue box from image 2.');
  });
  afterAll(async () => {
    await app?.dispose();
  });

  for (const [name, size] of [
    ['1024x700', { width: 1024, height: 700 }],
    ['zoom-200', { width: 640, height: 400 }],
  ] as const) {
    test(`${name}: every view fits the width, and its main controls can be reached`, async () => {
      const { page } = app;
      await page.setViewportSize(size);
      await page.keyboard.press('Control+1');
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      for (const control of [
        page.locator('#prompt'),
        page.getByRole('button', { name: /^Generate/ }),
        page.getByLabel('Width', { exact: true }),
        page.getByRole('button', { name: /^image 2: / }),
        page.getByRole('button', { name: 'Clear finished' }).or(page.getByRole('heading', { name: 'Queue' })),
      ]) {
        expect(await reachable(control), control.toString()).toBe(true);
      }
      // The canvas keeps room to show the inputs: not squeezed to a sliver by the panels around it.
      const heights = await page
        .locator('.board-image img')
        .evaluateAll((imgs) => imgs.map((i) => i.getBoundingClientRect().height));
      expect(heights).toHaveLength(2);
      for (const h of heights) expect(h).toBeGreaterThanOrEqual(100);
      await page.evaluate(() =>
        document.querySelectorAll('.ws-main, .ws-side, .workspace, .content, .view').forEach((el) => el.scrollTo(0, 0)),
      );
      await app.screenshot(`layout-${name}-workspace`);

      // Chat in the same canvas: the conversation keeps room to read, and its box and actions stay in reach.
      await page.keyboard.press('Control+j');
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      for (const control of [
        page.locator('#chat-message'),
        page.getByRole('button', { name: /^Draw this/ }),
        page.getByRole('button', { name: /^Export/ }),
        page.getByRole('tab', { name: /^Chat/ }),
      ]) {
        expect(await reachable(control), control.toString()).toBe(true);
      }
      expect(
        await page.getByTestId('chat-log').evaluate((el) => el.getBoundingClientRect().height),
      ).toBeGreaterThanOrEqual(100);
      await page.evaluate(() =>
        document.querySelectorAll('.ws-main, .ws-side, .workspace, .content, .view').forEach((el) => el.scrollTo(0, 0)),
      );
      await app.screenshot(`layout-${name}-chat`);
      await page.keyboard.press('Control+j');

      await page.keyboard.press('Control+3');
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      for (const control of [
        page.getByRole('button', { name: /^Download OmniGen2/ }),
        page.getByLabel('Folder'),
        page.getByRole('button', { name: 'Run engine check' }),
      ]) {
        expect(await reachable(control), control.toString()).toBe(true);
      }
      await page.evaluate(() => document.querySelectorAll('.view').forEach((el) => el.scrollTo(0, 0)));
      await app.screenshot(`layout-${name}-models`);

      await page.keyboard.press('Control+2');
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      expect(await reachable(page.getByRole('button', { name: 'Go to the workspace' }))).toBe(true);
      expect(
        await reachable(page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Workspace' })),
      ).toBe(true);
      await page.setViewportSize({ width: 1280, height: 800 });
    });
  }

  test('prefers-reduced-motion: no transition or animation runs', async () => {
    const { page } = app;
    await page.keyboard.press('Control+1');
    const timings = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('.input-card, .shell button, progress, .advanced summary')].map((el) => {
          const s = getComputedStyle(el);
          const longest = (list: string) =>
            Math.max(...list.split(',').map((v) => parseFloat(v) * (v.trim().endsWith('ms') ? 1 : 1000)));
          return Math.max(longest(s.transitionDuration), s.animationName === 'none' ? 0 : longest(s.animationDuration));
        }),
      );
    expect(Math.max(...(await timings()))).toBeGreaterThan(0); // the check can fail: motion exists without the preference
    await page.emulateMedia({ reducedMotion: 'reduce' });
    expect(Math.max(...(await timings()))).toBeLessThanOrEqual(0.01);
    await page.emulateMedia({ reducedMotion: null });
  });
});
