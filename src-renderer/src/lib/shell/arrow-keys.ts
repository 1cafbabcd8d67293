import type { Attachment } from 'svelte/attachments';

/**
 * Arrow keys inside a radio group or tab list move to the previous or next option and choose it, as the ARIA
 * patterns for those roles expect; Home and End jump to the ends.
 */
export const arrowKeys: Attachment<HTMLElement> = (group) => {
  const onkeydown = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const options = [...group.querySelectorAll<HTMLElement>('[role=radio]:not(:disabled), [role=tab]:not(:disabled)')];
    const at = options.indexOf(document.activeElement as HTMLElement);
    if (at < 0) return;
    const step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[e.key];
    const next =
      e.key === 'Home'
        ? 0
        : e.key === 'End'
          ? options.length - 1
          : step === undefined
            ? -1
            : (at + step + options.length) % options.length;
    if (next < 0) return;
    e.preventDefault();
    options[next]!.focus();
    options[next]!.click();
  };
  group.addEventListener('keydown', onkeydown);
  return () => group.removeEventListener('keydown', onkeydown);
};
