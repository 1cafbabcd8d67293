import { t } from '../i18n/i18n.svelte.ts';
import { MODES, type Mode } from '../workspace/parameters.ts';
import { VIEWS, type View } from './app-state.svelte.ts';

export type Command =
  | { kind: 'generate' }
  | { kind: 'cancel' }
  | { kind: 'undo' }
  | { kind: 'redo' }
  | { kind: 'mode'; mode: Mode | null }
  | { kind: 'view'; view: View }
  | { kind: 'chat' }
  | { kind: 'project'; action: ProjectAction };

export type ProjectAction = 'new' | 'open' | 'save' | 'save-as';
const PROJECT_KEYS: Record<string, ProjectAction> = { n: 'new', o: 'open', s: 'save' };

export interface KeyPress {
  key: string;
  /** Physical key: Option+digit on macOS types a symbol, so modes match on the digit key itself. */
  code: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

export interface KeyContext {
  /** Focus is in a text field, which keeps its own undo. */
  inTextField: boolean;
  /** A dialog is open; it handles Escape itself and its edits are not the workspace's yet. */
  inDialog: boolean;
}

/** The shortcut table shown to people (Keys dialog). "Mod" is Ctrl, or ⌘ on macOS; each combo is one way to do it. */
/** `action` is a function so the list follows the UI language. */
export const SHORTCUTS: readonly { combos: string[]; action: () => string }[] = [
  { combos: ['Mod+Enter'], action: () => t('shortcuts.generate') },
  { combos: ['Esc'], action: () => t('shortcuts.cancel') },
  { combos: ['Mod+J'], action: () => t('shortcuts.chat') },
  { combos: ['Enter'], action: () => t('shortcuts.chatSend') },
  { combos: ['Mod+Shift+C'], action: () => t('shortcuts.chatCopy') },
  { combos: ['Mod+Shift+R'], action: () => t('shortcuts.chatRegenerate') },
  { combos: ['Mod+Shift+E'], action: () => t('shortcuts.chatExport') },
  { combos: ['Mod+Z'], action: () => t('shortcuts.undo') },
  { combos: ['Mod+Shift+Z', 'Mod+Y'], action: () => t('shortcuts.redo') },
  ...MODES.map((m) => ({ combos: [`Alt+${m.shortcut}`], action: () => t('shortcuts.mode', { mode: m.label }) })),
  { combos: ['Alt+0'], action: () => t('shortcuts.modeAuto') },
  { combos: ['Alt+←', 'Alt+→'], action: () => t('shortcuts.moveInput') },
  { combos: ['Delete'], action: () => t('shortcuts.removeInput') },
  { combos: ['Enter'], action: () => t('shortcuts.previewInput') },
  ...VIEWS.map((v) => ({
    combos: [`Mod+${v.shortcut}`],
    action: () => t('shortcuts.openView', { view: t(`nav.${v.id}`) }),
  })),
  { combos: ['Mod+N'], action: () => t('project.new') },
  { combos: ['Mod+O'], action: () => t('shortcuts.openProject') },
  { combos: ['Mod+S'], action: () => t('shortcuts.saveProject') },
  { combos: ['Mod+Shift+S'], action: () => t('shortcuts.saveProjectAs') },
];

/** The command a key press means here, or null to leave it to the page. Pure, so it is unit-tested. */
export function commandFor(e: KeyPress, ctx: KeyContext): Command | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (mod && !e.altKey && key === 'Enter' && !ctx.inDialog) return { kind: 'generate' };
  if (key === 'Escape' && !mod && !e.altKey && !ctx.inDialog) return { kind: 'cancel' };
  if (mod && !e.altKey && !ctx.inTextField && !ctx.inDialog) {
    if (key === 'z') return { kind: e.shiftKey ? 'redo' : 'undo' };
    if (key === 'y' && !e.shiftKey) return { kind: 'redo' };
  }
  // Project commands work in text fields too: Ctrl+S while typing a prompt saves, as in every editor.
  const project = PROJECT_KEYS[key];
  if (mod && !e.altKey && !ctx.inDialog && project) {
    if (!e.shiftKey) return { kind: 'project', action: project };
    if (project === 'save') return { kind: 'project', action: 'save-as' };
  }
  if (mod && !e.altKey && !e.shiftKey && key === 'j' && !ctx.inDialog) return { kind: 'chat' };
  if (mod && !e.altKey && !e.shiftKey) {
    const view = VIEWS.find((v) => v.shortcut === key);
    if (view) return { kind: 'view', view: view.id };
  }
  if (e.altKey && !mod && !e.shiftKey && !ctx.inDialog) {
    const digit = /^Digit(\d)$/.exec(e.code)?.[1] ?? key;
    if (digit === '0') return { kind: 'mode', mode: null };
    const mode = MODES.find((m) => m.shortcut === digit);
    if (mode) return { kind: 'mode', mode: mode.id };
  }
  return null;
}
