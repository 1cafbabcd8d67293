import type { Attachment } from 'svelte/attachments';

/**
 * Opens a <dialog> as modal while it is mounted, and reports a close (Esc, a form with method=dialog) so the owner
 * can unmount it. Focus moves into the dialog and returns to where it was when it closes.
 */
export function modal(onclose: () => void): Attachment<HTMLDialogElement> {
  return (dialog) => {
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    dialog.addEventListener('close', onclose);
    return () => {
      dialog.removeEventListener('close', onclose);
      if (dialog.open) dialog.close();
      opener?.focus();
    };
  };
}
