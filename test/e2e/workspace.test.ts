import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';
import { dropFiles, inputOrder, scenePng, twoScenes } from './helpers/workspace-fixtures.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the workspace suite: ${unavailable}`);

describe.skipIf(unavailable !== null)('workspace in headless Chromium', () => {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await AppUnderTest.launch();
  });
  afterAll(async () => {
    await app?.dispose();
  });

  const card = (n: number) =>
    app.page.getByRole('listitem').filter({ has: app.page.getByRole('button', { name: new RegExp(`^image ${n}:`) }) });
  const modeChecked = (label: string) =>
    app.page.getByRole('radiogroup', { name: 'Mode' }).getByRole('radio', { name: label }).getAttribute('aria-checked');

  test('an empty workspace says what to do, and why Generate is disabled', async () => {
    const { page } = app;
    await expect.poll(() => page.getByRole('heading', { name: 'Workspace' }).isVisible()).toBe(true);
    expect(await modeChecked('Create')).toBe('true');
    const generate = page.getByRole('button', { name: /^Generate/ });
    expect(await generate.isDisabled()).toBe(true);
    // No model is installed in a fresh models folder: the workspace explains that instead of failing later.
    await expect.poll(() => page.locator('#generate-reason').textContent()).toMatch(/No model is installed yet/);
    expect(await page.getByRole('heading', { name: 'One step before your first image' }).isVisible()).toBe(true);
    expect(await page.getByText(/Keep about .* free/).isVisible()).toBe(true);
  });

  test('two dropped images become "image 1" and "image 2" and switch to composition', async () => {
    const { page } = app;
    await dropFiles(page, await twoScenes());
    await expect.poll(() => inputOrder(page)).toEqual(['red-ball.png', 'blue-box.png']);
    expect(await page.getByRole('button', { name: /^image 1: red-ball\.png, 640 × 480/ }).isVisible()).toBe(true);
    expect(await modeChecked('Compose')).toBe('true');
    expect(await page.getByLabel('Image guidance value').inputValue()).toBe('2.5');
    expect(await page.getByRole('tab', { name: /Inputs/ }).getAttribute('aria-selected')).toBe('true');
  });

  test('the prompt knows the labels: typing "image 2" highlights that card, a missing image is flagged', async () => {
    const { page } = app;
    const prompt = page.getByLabel('How should the images come together?');
    await prompt.fill('Edit the first image: add the box from image 2.');
    await expect.poll(() => card(2).getAttribute('class')).toMatch(/referenced/);
    expect(await card(1).getAttribute('class')).toMatch(/referenced/); // "the first image"
    await prompt.fill('Put the box from image 2 next to the dog in image 4.');
    await expect.poll(() => card(1).getAttribute('class')).not.toMatch(/referenced/);
    expect(await page.getByRole('status').filter({ hasText: 'image 4 is not loaded' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'image 1', exact: true }).click(); // chip inserts the label at the cursor
    expect(await prompt.inputValue()).toMatch(/image 4\. image 1$/);
  });

  test('prompt patterns for composition insert a template with its first placeholder selected', async () => {
    const { page } = app;
    const prompt = page.locator('#prompt');
    await prompt.fill('');
    await page.getByRole('button', { name: 'Prompt patterns' }).click();
    await page.getByRole('button', { name: /Add from another image/ }).click();
    expect(await prompt.inputValue()).toBe(
      'Edit the first image: add the [object] from the second image. [Describe the final picture in detail.]',
    );
    const selected = await prompt.evaluate((el: HTMLTextAreaElement) =>
      el.value.slice(el.selectionStart, el.selectionEnd),
    );
    expect(selected).toBe('[object]');
    await page.keyboard.type('red ball');
    expect(await prompt.inputValue()).toMatch(/^Edit the first image: add the red ball from the second image\./);
  });

  test('the file picker adds a third image; Alt+← moves it; a drag moves it back; Ctrl+Z / Ctrl+Shift+Z undo and redo', async () => {
    const { page } = app;
    const green = await scenePng({
      width: 800,
      height: 600,
      sky: '#c7f0c2',
      ground: '#3d7a3a',
      subject: '#f2c94c',
      shape: 'circle',
    });
    await page
      .getByLabel('Add images', { exact: true })
      .setInputFiles([{ name: 'sun.png', mimeType: 'image/png', buffer: green }]);
    await expect.poll(() => inputOrder(page)).toEqual(['red-ball.png', 'blue-box.png', 'sun.png']);

    await page.getByRole('button', { name: /^image 3: sun\.png/ }).focus();
    await page.keyboard.press('Alt+ArrowLeft');
    await page.keyboard.press('Alt+ArrowLeft');
    await expect.poll(() => inputOrder(page)).toEqual(['sun.png', 'red-ball.png', 'blue-box.png']);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toMatch(/^image 1: sun\.png/); // focus follows the card

    await page
      .getByRole('button', { name: /^image 1: sun\.png/ })
      .dragTo(page.getByRole('button', { name: /^image 3: blue-box\.png/ }), { targetPosition: { x: 120, y: 40 } });
    await expect.poll(() => inputOrder(page)).toEqual(['red-ball.png', 'blue-box.png', 'sun.png']);

    await page.locator('body').click({ position: { x: 600, y: 20 } }); // undo belongs to the workspace, not a text field
    await page.keyboard.press('Control+z');
    await expect.poll(() => inputOrder(page)).toEqual(['sun.png', 'red-ball.png', 'blue-box.png']);
    await page.keyboard.press('Control+Shift+Z');
    await expect.poll(() => inputOrder(page)).toEqual(['red-ball.png', 'blue-box.png', 'sun.png']);
  });

  test('Delete on a focused card removes it, and undo brings it back', async () => {
    const { page } = app;
    await page.getByRole('button', { name: /^image 3: sun\.png/ }).focus();
    await page.keyboard.press('Delete');
    await expect.poll(() => inputOrder(page)).toEqual(['red-ball.png', 'blue-box.png']);
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => inputOrder(page)).toEqual(['red-ball.png', 'blue-box.png', 'sun.png']);
    await page.getByRole('button', { name: 'Remove image 3' }).click();
    await expect.poll(() => inputOrder(page)).toEqual(['red-ball.png', 'blue-box.png']);
  });

  test('modes: Alt+1 creates without the images, Alt+0 returns to the automatic mode, one image means edit at its size', async () => {
    const { page } = app;
    await page.locator('body').click({ position: { x: 600, y: 20 } });
    await page.keyboard.press('Alt+1');
    await expect.poll(() => modeChecked('Create')).toBe('true');
    expect(await card(1).getAttribute('class')).toMatch(/unused/);
    expect(await page.getByText('Chosen by you').isVisible()).toBe(true);
    await page.keyboard.press('Alt+0');
    await expect.poll(() => modeChecked('Compose')).toBe('true');

    await page.getByRole('button', { name: 'Remove image 2' }).click();
    await expect.poll(() => modeChecked('Edit')).toBe('true');
    expect(await page.getByLabel('Image guidance value').inputValue()).toBe('2');
    // §5.3: one input image fixes the output size to its own (640 × 480 stays within 1024²).
    expect(await page.locator('.size-fixed').textContent()).toMatch(/640 × 480\s*from image 1/);
    await page.getByRole('radio', { name: 'Compose' }).click();
    await expect.poll(() => modeChecked('Compose')).toBe('true');
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => modeChecked('Edit')).toBe('true');
  });

  test('crop: the numeric crop becomes the image sent, and the card says so', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Crop image 1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Crop image 1' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await dialog.getByRole('radio', { name: '1:1' }).click();
    expect(await dialog.getByLabel('Width').inputValue()).toBe('480');
    await dialog.getByLabel('Width').fill('320');
    await dialog.getByLabel('Width').press('Tab');
    await dialog.getByLabel('Height').fill('320');
    await dialog.getByLabel('Height').press('Tab');
    await dialog.getByRole('button', { name: 'Apply crop' }).click();
    // Cropping decodes and re-encodes in the page (createImageBitmap → OffscreenCanvas → PNG → sha256): allow a busy machine.
    await expect
      .poll(() => page.getByRole('button', { name: /^image 1: red-ball\.png/ }).getAttribute('aria-label'), {
        timeout: 15_000,
      })
      .toMatch(/^image 1: red-ball\.png, 320 × 320, cropped/);
    expect(await dialog.isVisible()).toBe(false);
    expect(await page.locator('.size-fixed').textContent()).toMatch(/320 × 320/);
  });

  test('a card opens large in a dialog that Esc closes', async () => {
    const { page } = app;
    await page.getByRole('button', { name: /^image 1: red-ball\.png/ }).click();
    const dialog = page.getByRole('dialog', { name: /image 1 · red-ball\.png/ });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.getByText('cropped from 640 × 480').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
  });

  test('a pasted image is added like a dropped one', async () => {
    const { page } = app;
    const png = (
      await scenePng({
        width: 300,
        height: 300,
        sky: '#e0d4ff',
        ground: '#7d5ba6',
        subject: '#ffffff',
        shape: 'square',
      })
    ).toString('base64');
    await page.evaluate((b64) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'pasted.png', { type: 'image/png' }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
    }, png);
    await expect.poll(() => inputOrder(page)).toEqual(['red-ball.png', 'pasted.png']);
  });

  test('a file that is not an image is refused with a plain message', async () => {
    const { page } = app;
    await page
      .getByLabel('Add images', { exact: true })
      .setInputFiles([{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') }]);
    await expect
      .poll(() => page.getByRole('alert').filter({ hasText: 'Some images were not added' }).textContent())
      .toMatch(/notes\.txt: this is not an image Atelier can read/);
    await page
      .getByRole('alert')
      .filter({ hasText: 'Some images were not added' })
      .getByRole('button', { name: 'Dismiss' })
      .click();
    expect(await inputOrder(page)).toEqual(['red-ball.png', 'pasted.png']);
  });
});
