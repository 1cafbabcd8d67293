import type { Locator, Page } from 'playwright-core';

/**
 * Why the focused element's focus would not be seen, or null when it is: it must match :focus-visible and draw
 * an outline or a ring (itself, or the box around it that is marked data-focus-ring). `null` also when focus has left the page content (body), where the browser shows its own.
 */
export async function invisibleFocus(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return null;
    const ringOf = (node: Element) => {
      const style = getComputedStyle(node);
      return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
    };
    // A borderless field may draw its ring on the box around it, which says so with data-focus-ring.
    const host = el.parentElement?.closest('[data-focus-ring]');
    if (el.matches(':focus-visible') && (ringOf(el) || (host && ringOf(host)))) return null;
    return `<${el.tagName.toLowerCase()} class="${el.className}" aria-label="${el.getAttribute('aria-label') ?? ''}">${(el.textContent ?? '').trim().slice(0, 40)}</…> has focus that cannot be seen`;
  });
}

const isFocused = (target: Locator) => target.evaluate((el) => el === document.activeElement).catch(() => false);

/**
 * Presses Tab (Shift+Tab with `back`) until `target` has focus, failing if any stop on the way shows no focus,
 * or if `target` is not reached within `max` presses. Keyboard only: no pointer event is sent.
 */
export async function tabTo(page: Page, target: Locator, { back = false, max = 80 } = {}): Promise<void> {
  for (let i = 0; i <= max; i++) {
    if (await isFocused(target)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const invisible = await invisibleFocus(page);
    if (invisible) throw new Error(`Tab stop ${i + 1}: ${invisible}`);
  }
  throw new Error(`Tab never reached ${target.toString()} in ${max} presses`);
}

/** Selects a field's whole value (it has focus) and types over it. */
export async function typeOver(page: Page, text: string): Promise<void> {
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
}
