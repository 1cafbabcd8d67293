// Electron main process: app lifecycle, the window and its security settings, the engine host, IPC wiring.
// Everything with logic lives in services/ and engine/ (plain Node); this file only adapts them to Electron.
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, nativeTheme, session, shell, type IpcMainInvokeEvent } from 'electron';
import Store from 'electron-store';
import { eventChannel, type Contract, type Events, type Settings } from './ipc/contract.ts';
import { PARSERS } from './ipc/parsers/index.ts';
import { ok, registerHandlers, type IpcLike } from './ipc/register-handlers.ts';
import { APP_FILES } from './electron/app-files.ts';
import { OpenRequests, projectPathFromArgv } from './electron/open-requests.ts';
import { ENGINE_LOG_FILE, startUtilityEngine } from './electron/utility-engine.ts';
import { PROVIDER_CACHE_FILE } from './engine/onnx/providers.ts';
import { createAppServices } from './services/app-services.ts';
import { defaultCacheDir, defaultModelsDir } from './services/paths.ts';
import { SETTINGS_DEFAULTS, SETTINGS_SCHEMA } from './services/settings/settings-schema.ts';
import { SettingsService } from './services/settings/settings-service.ts';
import { SETTINGS_FILE_NAME } from './services/settings/node-settings.ts';

// Scripts and styles only from the app itself; images may be data:/blob: URLs made by the renderer.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let mainWindow: BrowserWindow | null = null;
const openRequests = new OpenRequests();

function appFile(name: keyof typeof APP_FILES): string {
  return join(app.getAppPath(), APP_FILES[name]);
}

function isWebLink(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 640,
    show: false,
    title: 'Atelier',
    // The taskbar and window-switcher icon on Linux and Windows (macOS takes the bundle's .icns).
    icon: appFile('windowIcon'),
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#16171b' : '#f6f6f8',
    webPreferences: {
      preload: appFile('preload'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  win.once('ready-to-show', () => win.show());
  // Links open in the system browser; the window itself never navigates away from the app.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (isWebLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (url !== win.webContents.getURL()) {
      event.preventDefault();
      if (isWebLink(url)) void shell.openExternal(url);
    }
  });
  // The page subscribes to its events while it loads; a project asked for before then waits until it has.
  win.webContents.on('did-finish-load', () =>
    openRequests.attach((path) => win.webContents.send(eventChannel('project.openRequested'), { path })),
  );
  win.on('closed', () => openRequests.detach());
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(appFile('renderer'));
  return win;
}

/** ipcMain, but answering only our own window's main frame (VS Code's validatedIpcMain idea). */
function validatedIpc(): IpcLike {
  return {
    handle: (channel, handler) =>
      ipcMain.handle(channel, (event: IpcMainInvokeEvent, ...args: unknown[]) => {
        if (
          !mainWindow ||
          event.sender !== mainWindow.webContents ||
          event.senderFrame !== mainWindow.webContents.mainFrame
        ) {
          return { ok: false, error: { code: 'invalid-request', message: 'request from an unknown frame' } };
        }
        return handler(event, ...args);
      }),
  };
}

/** Native dialogs, modal to the window that asked (only the main window's frame reaches the handlers). */
function electronDialogs(): Contract['dialogs'] {
  const filters = [{ name: 'Atelier project', extensions: ['atelier'] }];
  const open = async (properties: Electron.OpenDialogOptions['properties']) => {
    const r = await dialog.showOpenDialog(mainWindow!, {
      properties,
      filters: properties?.includes('openFile') ? filters : [],
    });
    return ok(r.canceled ? null : (r.filePaths[0] ?? null));
  };
  return {
    saveProjectPath: async (suggestedName) => {
      const r = await dialog.showSaveDialog(mainWindow!, {
        defaultPath: join(app.getPath('documents'), suggestedName),
        filters,
      });
      return ok(r.canceled || !r.filePath ? null : r.filePath);
    },
    openProjectPath: () => open(['openFile']),
    pickFolder: () => open(['openDirectory', 'createDirectory']),
  };
}

function showWindow(): void {
  if (!mainWindow || mainWindow.isDestroyed()) {
    if (app.isReady()) mainWindow = createWindow();
    return;
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
}

/** A project named on a command line: this launch's, or a second instance's (Windows and Linux). */
function openFromArgv(argv: readonly string[], cwd: string): void {
  const path = projectPathFromArgv(argv, { cwd, fromSource: process.defaultApp === true });
  if (path) openRequests.push(path);
}

function start(): void {
  const defaults = SETTINGS_DEFAULTS(defaultModelsDir(), defaultCacheDir());
  const store = new Store<Settings>({
    name: SETTINGS_FILE_NAME,
    defaults,
    schema: SETTINGS_SCHEMA as never,
    clearInvalidConfig: false,
  });
  const settings = new SettingsService(
    {
      get store() {
        return store.store;
      },
      set: (patch) => store.set(patch),
    },
    defaults,
  );
  const applyTheme = (s: Settings) => {
    nativeTheme.themeSource = s.theme;
  };
  applyTheme(settings.get());
  settings.onChange(applyTheme);

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });

  const engine = startUtilityEngine(appFile('engineHost'), join(app.getPath('userData'), 'logs', ENGINE_LOG_FILE));
  const emit = <E extends keyof Events>(event: E, payload: Events[E]) =>
    mainWindow?.webContents.send(eventChannel(event), payload);
  const services = createAppServices({
    engine,
    settings,
    emit,
    shell: 'electron',
    version: app.getVersion(),
    openExternal: (url) => shell.openExternal(url),
    providerCacheFile: join(app.getPath('userData'), PROVIDER_CACHE_FILE),
    userDataDir: app.getPath('userData'),
    env: process.env,
    log: (error) => console.error('[background]', error),
    dialogs: electronDialogs(),
  });
  registerHandlers(validatedIpc(), services.contract, PARSERS, (error, channel) =>
    console.error(`[ipc] ${channel} failed`, error),
  );

  openFromArgv(process.argv, process.cwd());
  mainWindow = createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
  app.on('will-quit', () => void engine.dispose());
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  // Windows and Linux start a second instance for a double-clicked file; it hands its command line over and quits.
  app.on('second-instance', (_event, argv, workingDirectory) => {
    openFromArgv(argv, workingDirectory);
    showWindow();
  });
  // macOS sends files as events instead, possibly before `ready` (the launch itself): registered at once.
  app.on('open-file', (event, path) => {
    event.preventDefault();
    openRequests.push(path);
    showWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  void app.whenReady().then(start);
}
