import type {
  AppInfo,
  AtelierApi,
  IpcError,
  LanguagePreference,
  Settings,
  ThemePreference,
} from '../../../../src-main/ipc/contract.ts';
import { setLocale } from '../i18n/i18n.svelte.ts';
import { resolveLocale } from '../i18n/translator.ts';

export type View = 'workspace' | 'history' | 'models';
export const VIEWS: { id: View; shortcut: string }[] = [
  { id: 'workspace', shortcut: '1' },
  { id: 'history', shortcut: '2' },
  { id: 'models', shortcut: '3' },
];

/** App-wide state: which view is shown, app facts and settings. The one owner of settings IPC. */
export class AppState {
  view = $state<View>('workspace');
  info = $state<AppInfo | null>(null);
  settings = $state<Settings | null>(null);
  error = $state<IpcError | null>(null);
  readonly theme = $derived<ThemePreference>(this.settings?.theme ?? 'system');
  readonly language = $derived<LanguagePreference>(this.settings?.language ?? 'system');

  /** @param systemLanguages the operating system's languages, most preferred first (Chromium's `navigator.languages`). */
  constructor(
    private readonly api: AtelierApi,
    private readonly systemLanguages: () => readonly string[] = () => globalThis.navigator?.languages ?? [],
  ) {}

  /** Loads app facts and settings; returns the unsubscribe for settings changes. */
  connect(): () => void {
    void this.load();
    return this.api.on('settings.changed', ({ settings }) => this.apply(settings));
  }

  async setTheme(theme: ThemePreference): Promise<void> {
    const r = await this.api.settings.update({ theme });
    if (r.ok) this.apply(r.value);
    else this.error = r.error;
  }

  async setLanguage(language: LanguagePreference): Promise<void> {
    const r = await this.api.settings.update({ language });
    if (r.ok) this.apply(r.value);
    else this.error = r.error;
  }

  /** Settings arrive here from every path (load, an update, another window), so the UI language follows them all. */
  private apply(settings: Settings): void {
    this.settings = settings;
    setLocale(resolveLocale(settings.language ?? 'system', this.systemLanguages()));
  }

  private async load(): Promise<void> {
    const [info, settings] = await Promise.all([this.api.app.info(), this.api.settings.get()]);
    if (info.ok) this.info = info.value;
    else this.error = info.error;
    if (settings.ok) this.apply(settings.value);
    else this.error = settings.error;
  }
}
