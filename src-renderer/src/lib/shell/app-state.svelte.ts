import type { AppInfo, AtelierApi, IpcError, Settings, ThemePreference } from '../../../../src-main/ipc/contract.ts';

export type View = 'workspace' | 'history' | 'models';
export const VIEWS: { id: View; label: string; shortcut: string }[] = [
  { id: 'workspace', label: 'Workspace', shortcut: '1' },
  { id: 'history', label: 'History', shortcut: '2' },
  { id: 'models', label: 'Models', shortcut: '3' },
];

/** App-wide state: which view is shown, app facts and settings. The one owner of settings IPC. */
export class AppState {
  view = $state<View>('workspace');
  info = $state<AppInfo | null>(null);
  settings = $state<Settings | null>(null);
  error = $state<IpcError | null>(null);
  readonly theme = $derived<ThemePreference>(this.settings?.theme ?? 'system');

  constructor(private readonly api: AtelierApi) {}

  /** Loads app facts and settings; returns the unsubscribe for settings changes. */
  connect(): () => void {
    void this.load();
    return this.api.on('settings.changed', ({ settings }) => { this.settings = settings; });
  }

  async setTheme(theme: ThemePreference): Promise<void> {
    const r = await this.api.settings.update({ theme });
    if (r.ok) this.settings = r.value;
    else this.error = r.error;
  }

  private async load(): Promise<void> {
    const [info, settings] = await Promise.all([this.api.app.info(), this.api.settings.get()]);
    if (info.ok) this.info = info.value; else this.error = info.error;
    if (settings.ok) this.settings = settings.value; else this.error = settings.error;
  }
}
