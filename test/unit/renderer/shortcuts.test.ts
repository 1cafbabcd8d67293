import { describe, expect, test } from 'vitest';
import { commandFor, type KeyPress } from '../../../src-renderer/src/lib/shell/shortcuts.ts';

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key,
  code: '',
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});
const outside = { inTextField: false, inDialog: false };
const typing = { inTextField: true, inDialog: false };
const dialog = { inTextField: false, inDialog: true };

describe('commandFor', () => {
  test('Ctrl/⌘+Enter generates, also while typing the prompt, but not from a dialog', () => {
    expect(commandFor(press('Enter', { ctrlKey: true }), typing)).toEqual({ kind: 'generate' });
    expect(commandFor(press('Enter', { metaKey: true }), outside)).toEqual({ kind: 'generate' });
    expect(commandFor(press('Enter'), typing)).toBeNull();
    expect(commandFor(press('Enter', { ctrlKey: true }), dialog)).toBeNull(); // a dialog's edit is not applied yet
  });

  test('Esc cancels, except inside a dialog (which closes instead)', () => {
    expect(commandFor(press('Escape'), outside)).toEqual({ kind: 'cancel' });
    expect(commandFor(press('Escape'), typing)).toEqual({ kind: 'cancel' });
    expect(commandFor(press('Escape'), dialog)).toBeNull();
  });

  test('undo and redo of workspace edits leave text fields their own undo', () => {
    expect(commandFor(press('z', { ctrlKey: true }), outside)).toEqual({ kind: 'undo' });
    expect(commandFor(press('Z', { ctrlKey: true, shiftKey: true }), outside)).toEqual({ kind: 'redo' });
    expect(commandFor(press('y', { ctrlKey: true }), outside)).toEqual({ kind: 'redo' });
    expect(commandFor(press('z', { ctrlKey: true }), typing)).toBeNull();
  });

  test('Ctrl+N/O/S and Ctrl+Shift+S act on the project, also while typing, not from a dialog', () => {
    expect(commandFor(press('n', { ctrlKey: true }), outside)).toEqual({ kind: 'project', action: 'new' });
    expect(commandFor(press('o', { metaKey: true }), outside)).toEqual({ kind: 'project', action: 'open' });
    expect(commandFor(press('s', { ctrlKey: true }), typing)).toEqual({ kind: 'project', action: 'save' });
    expect(commandFor(press('S', { ctrlKey: true, shiftKey: true }), typing)).toEqual({
      kind: 'project',
      action: 'save-as',
    });
    expect(commandFor(press('N', { ctrlKey: true, shiftKey: true }), outside)).toBeNull();
    expect(commandFor(press('s', { ctrlKey: true }), dialog)).toBeNull();
  });

  test('Alt+digit switches mode, by physical key too (macOS Option+digit types a symbol)', () => {
    expect(commandFor(press('2', { altKey: true }), outside)).toEqual({ kind: 'mode', mode: 'edit' });
    expect(commandFor(press('£', { altKey: true, code: 'Digit3' }), typing)).toEqual({ kind: 'mode', mode: 'compose' });
    expect(commandFor(press('0', { altKey: true }), outside)).toEqual({ kind: 'mode', mode: null });
  });

  test('Ctrl/⌘+J opens and closes Chat, also while typing, not from a dialog', () => {
    expect(commandFor(press('j', { ctrlKey: true }), typing)).toEqual({ kind: 'chat' });
    expect(commandFor(press('J', { metaKey: true }), outside)).toEqual({ kind: 'chat' });
    expect(commandFor(press('j', { ctrlKey: true }), dialog)).toBeNull();
    expect(commandFor(press('j', { ctrlKey: true, shiftKey: true }), outside)).toBeNull();
  });

  test('Ctrl+1/2/3 open the views', () => {
    expect(commandFor(press('2', { ctrlKey: true }), typing)).toEqual({ kind: 'view', view: 'history' });
    expect(commandFor(press('3', { ctrlKey: true }), outside)).toEqual({ kind: 'view', view: 'models' });
  });
});
