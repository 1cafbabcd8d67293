import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  METHODS,
  EVENTS,
  eventChannel,
  invokeChannel,
  type Contract,
  type Events,
} from '../../../src-main/ipc/contract.ts';
import { PARSERS } from '../../../src-main/ipc/parsers/index.ts';
import { registerHandlers } from '../../../src-main/ipc/register-handlers.ts';
import type { Engine } from '../../../src-main/engine/host/engine-client.ts';
import { startWorkerEngine } from '../../../src-main/engine/host/worker-engine.ts';
import { createAppServices, type AppServices } from '../../../src-main/services/app-services.ts';
import { ok } from '../../../src-main/ipc/register-handlers.ts';
import { openNodeSettings } from '../../../src-main/services/settings/node-settings.ts';
import { repoRoot } from '../../helpers/golden.ts';
import { serveStatic } from './static-server.ts';
import { auditPage, failingFindings } from './accessibility-audit.ts';

export const CHROMIUM = process.env.ATELIER_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(repoRoot, 'test-results', 'screenshots');

/** Why the headless suite cannot run here, or null when it can. */
export function headlessUnavailable(): string | null {
  if (!existsSync(join(repoRoot, 'out/renderer/index.html'))) return 'the renderer is not built (run `npm run build`)';
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (install Debian's chromium or set ATELIER_CHROMIUM)`;
  return null;
}

/**
 * The app as a user meets it, minus Electron: the built renderer in headless Chromium, with `window.api`
 * bridged to the same handlers the main process registers, over plain-Node services and a worker-thread engine.
 */
/**
 * The file dialogs, answered without a person: projects are saved under `<userData>/projects` (as `next.saveName`,
 * else the suggested name), and Open and the folder picker answer what the test put in `next` (null: cancel).
 */
export class ScriptedDialogs {
  next: { saveName: string | null; openProject: string | null; folder: string | null } = {
    saveName: null,
    openProject: null,
    folder: null,
  };
  constructor(private readonly userData: string) {}

  readonly contract: Contract['dialogs'] = {
    saveProjectPath: async (suggestedName) => {
      mkdirSync(join(this.userData, 'projects'), { recursive: true });
      return ok(join(this.userData, 'projects', this.next.saveName ?? suggestedName));
    },
    openProjectPath: async () => ok(this.next.openProject),
    pickFolder: async () => ok(this.next.folder),
  };
}

export interface LaunchOptions {
  /** Start on this user-data folder (a second start after a crash); the test owns it and removes it. */
  userData?: string;
  /** Wraps the engine the services use (e.g. pacedChat). */
  wrapEngine?: (engine: Engine) => Engine;
}

export class AppUnderTest {
  private constructor(
    readonly page: Page,
    readonly services: AppServices,
    readonly dialogs: ScriptedDialogs,
    /** Settings, recovery files and the projects the dialogs save. */
    readonly userData: string,
    /** Sends an event as the main process would (e.g. a project file the system asks to open). */
    readonly emit: <E extends keyof Events>(event: E, payload: Events[E]) => void,
    private readonly browser: Browser,
    private readonly close: () => Promise<void>,
  ) {}

  static async launch(options: LaunchOptions = {}): Promise<AppUnderTest> {
    const userData = options.userData ?? mkdtempSync(join(tmpdir(), 'atelier-e2e-'));
    const dialogs = new ScriptedDialogs(userData);
    const env = { ...process.env, ATELIER_USER_DATA: userData, ATELIER_MODELS_DIR: join(userData, 'models') };
    const settings = openNodeSettings(env);
    const engine = startWorkerEngine();
    const { url, server } = await serveStatic(join(repoRoot, 'out/renderer'));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    let ready = false;
    const early: [string, unknown][] = [];
    const deliver = (channel: string, payload: unknown) =>
      page
        .evaluate(
          ([c, p]) => (window as unknown as { __atelierDeliver(c: string, p: unknown): void }).__atelierDeliver(c, p),
          [channel, likeStructuredClone(payload)] as const,
        )
        .catch(() => {});
    const emit = <E extends keyof Events>(event: E, payload: Events[E]) => {
      if (ready) void deliver(eventChannel(event), payload);
      else early.push([eventChannel(event), payload]);
    };
    const services = createAppServices({
      engine: options.wrapEngine?.(engine) ?? engine,
      settings,
      emit,
      shell: 'node',
      version: readVersion(),
      openExternal: async () => {},
      userDataDir: userData,
      env,
      log: (e) => console.error('[background]', e),
      dialogs: dialogs.contract,
    });
    const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
    registerHandlers({ handle: (channel, fn) => handlers.set(channel, fn) }, services.contract, PARSERS);
    await page.exposeBinding('__atelierInvoke', async (_source, channel: string, args: unknown[]) => {
      const handler = handlers.get(channel);
      if (!handler) return { ok: false, error: { code: 'invalid-request', message: `no handler for ${channel}` } };
      return likeStructuredClone(await handler({}, ...args));
    });
    const channels = {
      methods: Object.fromEntries(
        Object.entries(METHODS).map(([ns, ms]) => [
          ns,
          Object.fromEntries(Object.keys(ms).map((m) => [m, invokeChannel(ns, m)])),
        ]),
      ),
      events: Object.fromEntries(Object.keys(EVENTS).map((e) => [e, eventChannel(e as keyof Events)])),
    };
    await page.addInitScript(installBridge, channels);
    await page.goto(url);
    ready = true;
    for (const [c, p] of early.splice(0)) await deliver(c, p);
    return new AppUnderTest(page, services, dialogs, userData, emit, browser, async () => {
      await engine.dispose();
      server.close();
      if (!options.userData) rmSync(userData, { recursive: true, force: true });
    });
  }

  /**
   * Photographs the page and audits it with axe-core in light and dark; the report lands beside the picture
   * (`<name>.axe.json`), and a serious or critical finding fails the test that took the picture.
   */
  async screenshot(name: string): Promise<string> {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const path = join(SCREENSHOT_DIR, `${name}.png`);
    await this.page.screenshot({ path, fullPage: true });
    const failing = failingFindings(await auditPage(this.page, name, join(SCREENSHOT_DIR, `${name}.axe.json`)));
    if (failing.length > 0) throw new Error(`accessibility audit of ${name}:\n${failing.join('\n')}`);
    return path;
  }

  async dispose(): Promise<void> {
    await this.browser.close();
    await this.close();
  }
}

/**
 * What Electron's structured clone does to a Node Buffer (it arrives as a plain Uint8Array); Playwright would
 * serialize a Buffer as an object of indices, so PNG bytes in 'job.finished' or a project's images would be unreadable.
 */
function likeStructuredClone(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Uint8Array.from(value);
  if (Array.isArray(value)) return value.map(likeStructuredClone);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, likeStructuredClone(v)]));
  }
  return value;
}

function readVersion(): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Runs in the page before the app: builds `window.api` from the channel names the contract produced in Node,
 * as the preload does in Electron (no channel name is spelled here).
 */
function installBridge(channels: {
  methods: Record<string, Record<string, string>>;
  events: Record<string, string>;
}): void {
  const w = window as unknown as Record<string, unknown>;
  const invoke = w.__atelierInvoke as (channel: string, args: unknown[]) => Promise<unknown>;
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  w.__atelierDeliver = (channel: string, payload: unknown) => listeners.get(channel)?.forEach((l) => l(payload));
  const api: Record<string, unknown> = {
    // Dropped files have no disk behind them here; a test gives one a `path` (as Electron's File.path once did).
    pathForFile: (file: File & { path?: string }) => file.path ?? '',
    on: (event: string, listener: (p: unknown) => void) => {
      const channel = channels.events[event]!;
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(listener);
      return () => listeners.get(channel)?.delete(listener);
    },
  };
  for (const [ns, methods] of Object.entries(channels.methods)) {
    api[ns] = Object.fromEntries(
      Object.entries(methods).map(([m, channel]) => [m, (...args: unknown[]) => invoke(channel, args)]),
    );
  }
  Object.defineProperty(window, 'api', { value: Object.freeze(api), writable: false });
}
