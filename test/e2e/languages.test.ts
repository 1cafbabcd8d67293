import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';
import { finishedRuns, importTinyModel, TINY_REPO } from './helpers/tiny-model.ts';
import { dropFiles, inputOrder, smallScenes } from './helpers/workspace-fixtures.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the languages suite: ${unavailable}`);

/** The app in Simplified Chinese, through a real run: the workspace, Models and History photographed (and audited). */
describe.skipIf(unavailable !== null)('the interface in Simplified Chinese', () => {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await AppUnderTest.launch();
  });
  afterAll(async () => {
    await app?.dispose();
  });

  test('the language menu switches the whole interface and the choice is stored', async () => {
    const { page } = app;
    await importTinyModel(page);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await page.getByLabel('Language').selectOption('zh-CN');
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('工作区');
    expect(
      await page.getByRole('navigation', { name: '主导航' }).getByRole('button', { name: '历史' }).isVisible(),
    ).toBe(true);
    expect(await page.evaluate(() => window.api.settings.get())).toMatchObject({
      ok: true,
      value: { language: 'zh-CN' },
    });
  });

  test('workspace: two images, an instruction, a run', async () => {
    const { page } = app;
    await dropFiles(page, await smallScenes());
    await expect.poll(() => inputOrder(page)).toEqual(['ball.png', 'box.png']);
    expect(await page.locator('.mode-auto').textContent()).toBe('根据 2 张图像自动选择');
    await page
      .locator('#prompt')
      .fill('Edit the first image: add the blue box from image 2. The red ball rests on top of the box.');
    await page.getByLabel('宽度', { exact: true }).fill('64');
    await page.getByLabel('宽度', { exact: true }).press('Tab');
    await page.getByLabel('高度', { exact: true }).fill('48');
    await page.getByLabel('高度', { exact: true }).press('Tab');
    await page.locator('details.advanced summary').press('Enter');
    await page.getByLabel('步数数值').fill('3');
    await page.getByLabel('步数数值').press('Enter');
    await expect.poll(() => page.locator('#generate-reason').textContent()).toMatch(/64 × 48 ·\s+3 步 · 1 张图像/);
    await page.locator('.ws-side').evaluate((el) => el.scrollTo(0, 0));
    await app.screenshot('zh-CN-workspace');

    await page.locator('#prompt').press('Control+Enter');
    await finishedRuns(page, 1);
    await expect.poll(() => page.getByRole('tab', { name: '结果' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('.result-bar').textContent()).toMatch(/种子 \d+ · 3 步/);
    await app.screenshot('zh-CN-workspace-result');
  });

  test('Models and History', async () => {
    const { page } = app;
    await page.keyboard.press('Control+3');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('模型');
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: TINY_REPO }) });
    expect(await card.getByTestId('model-state').textContent()).toBe('就绪');
    await app.screenshot('zh-CN-models');

    await page.keyboard.press('Control+2');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('历史');
    expect(await page.locator('.history-view .badge').first().textContent()).toBe('1 个结果');
    expect(await page.getByRole('button', { name: '重新生成' }).isVisible()).toBe(true);
    await app.screenshot('zh-CN-history');
  });

  test('Chat: the panel in Chinese, the image labels the model reads still English', async () => {
    const { page } = app;
    await page.keyboard.press('Control+j');
    await expect.poll(() => page.getByRole('tab', { name: /^对话/ }).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('.chat-view .chat-context .eyebrow').textContent()).toBe('对话中有 2 张图像');
    expect(await page.locator('.chat-image-chip').allTextContents()).toEqual(['image 1', 'image 2']);
    expect(await page.locator('#chat-message').getAttribute('placeholder')).toBe(
      '询问 image 1、image 2……（Enter 发送，Shift+Enter 换行）',
    );
    await page.locator('#chat-message').fill('What is in image 2?');
    await page.locator('#chat-message').press('Enter');
    // The tiny model's reply is arbitrary: an answer, or a picture it decides to draw; either is announced in Chinese.
    await expect
      .poll(() => page.getByTestId('chat-announcement').textContent(), { timeout: 120_000 })
      .toMatch(/^(回答：|模型以一张图片作答|图片)/);
    await expect.poll(() => page.getByTestId('chat-stop').count(), { timeout: 120_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('chat-drawing').count(), { timeout: 150_000 }).toBe(0);
    expect(await page.getByTestId('chat-user').getByText('你').count()).toBe(1);
    await app.screenshot('zh-CN-chat');
    await page.keyboard.press('Control+2');
  });

  test('back to English', async () => {
    const { page } = app;
    await page.getByLabel('语言').selectOption('en');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('History');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await page.locator('.history-view .badge').first().textContent()).toBe('1 result');
  });
});
