import type { Settings } from '../../ipc/contract.ts';
import { SETTINGS_DEFAULTS, SETTINGS_SCHEMA } from './settings-schema.ts';

/** The part of electron-store / conf that settings need; both satisfy it, so this module runs in plain Node. */
export interface SettingsStore {
  readonly store: Partial<Settings>;
  set(patch: Partial<Settings>): void;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  readonly code = 'invalid-request';
}

export class SettingsService {
  private readonly listeners = new Set<(s: Settings) => void>();

  constructor(
    private readonly store: SettingsStore,
    private readonly defaults: Settings,
  ) {}

  get(): Settings {
    return { ...this.defaults, ...this.store.store };
  }

  /** Validates the whole patch before writing any of it, so a bad field changes nothing. */
  update(patch: Partial<Settings>): Settings {
    for (const [key, value] of Object.entries(patch)) checkField(key, value);
    this.store.set(patch);
    const next = this.get();
    for (const l of this.listeners) l(next);
    return next;
  }

  onChange(listener: (s: Settings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function checkField(key: string, value: unknown): void {
  const rule = (SETTINGS_SCHEMA as Record<string, Record<string, unknown>>)[key];
  if (!rule) throw new SettingsError(`unknown setting "${key}"`);
  const fail = (why: string) => new SettingsError(`setting "${key}" ${why}`);
  switch (rule.type) {
    case 'string': {
      if (typeof value !== 'string') throw fail('must be text');
      if (rule.enum && !(rule.enum as readonly string[]).includes(value))
        throw fail(`must be one of ${(rule.enum as string[]).join(', ')}`);
      if (rule.pattern && !new RegExp(rule.pattern as string).test(value))
        throw fail(`must match ${String(rule.pattern)}`);
      if (rule.minLength && value.length < (rule.minLength as number)) throw fail('must not be empty');
      return;
    }
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw fail('must be a number');
      if (value < (rule.minimum as number) || value > (rule.maximum as number))
        throw fail(`must be between ${String(rule.minimum)} and ${String(rule.maximum)}`);
      return;
    case 'array':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw fail('must be a list of text');
      if (value.length > (rule.maxItems as number)) throw fail(`may hold at most ${String(rule.maxItems)} entries`);
      return;
  }
}

export { SETTINGS_DEFAULTS };
