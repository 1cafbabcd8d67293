import { isAbsolute, join } from 'node:path';
import type { Conversation, ExportChatRequest, ImageHash, Recipe } from '../../ipc/contract.ts';
import { writeFileAtomic } from './atomic-write.ts';
import type { FileSystem } from './file-system.ts';
import type { ImagePool } from './image-pool.ts';
import { BAD_NAME } from './png-export.ts';
import { embedRecipe } from './png-recipe.ts';
import { ProjectError } from './project-errors.ts';
import { SPECIAL_TOKENS } from '../../engine/text/special-tokens.ts';

const IMG_TOKEN = SPECIAL_TOKENS.img;

/** File names of the images beside the Markdown, by hash (inputs) and by result id (pictures). */
export interface ChatFiles {
  readonly inputs: readonly string[];
  readonly pictures: ReadonlyMap<string, { file: string; recipe: Recipe }>;
}

/**
 * The conversation as Markdown: the images it is about (as "image 1…5", linked), then each message; a picture
 * answer is the linked picture with its prompt, seed and size. Plain CommonMark, readable as text too.
 */
export function conversationMarkdown(c: Conversation, files: ChatFiles): string {
  const lines = [`# Conversation with OmniGen2`, '', `Started ${c.createdAt}.`, ''];
  if (files.inputs.length > 0) {
    lines.push('## Images', '');
    files.inputs.forEach((file, i) => lines.push(`- image ${i + 1}: ![image ${i + 1}](${encodeURI(file)})`));
    lines.push('');
  }
  lines.push('## Messages', '');
  for (const m of c.messages) {
    const who = m.role === 'user' ? '**You**' : '**OmniGen2**';
    const picture = m.resultId !== null ? files.pictures.get(m.resultId) : undefined;
    if (picture) {
      const r = picture.recipe;
      lines.push(
        `${who}:`,
        '',
        `![${escapeText(r.prompt)}](${encodeURI(picture.file)})`,
        '',
        `*Picture: ${r.width} × ${r.height}, seed ${r.seed}, ${r.steps} steps, chat-mode conditioning.*`,
        '',
      );
    } else if (m.role === 'assistant' && m.text.startsWith(IMG_TOKEN)) {
      lines.push(`${who}: *(a picture that was not made)*`, '');
    } else {
      lines.push(`${who}:${m.stopped ? ' *(stopped)*' : ''}`, '', quote(m.text), '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Writes `<fileName>.md` and the images beside it; checks everything before writing the first file. */
export async function exportChat(fs: FileSystem, pool: ImagePool, req: ExportChatRequest): Promise<string[]> {
  if (!isAbsolute(req.folder))
    throw new ProjectError('invalid-request', 'bad-name', `"${req.folder}" is not an absolute folder`, {
      path: req.folder,
    });
  const base = req.fileName.replace(/\.md$/i, '');
  if (base.trim() === '' || base.startsWith('.') || BAD_NAME.test(base) || base.length > 180) {
    throw new ProjectError('invalid-request', 'bad-name', `"${req.fileName}" is not a plain file name`, {
      fileName: req.fileName,
    });
  }
  pool.add(req.images);
  const bytesOf = (hash: ImageHash) => {
    const bytes = pool.get(hash);
    if (!bytes)
      throw new ProjectError('invalid-request', 'missing-image', `image ${hash} was never sent; send it in "images"`, {
        image: hash,
      });
    return bytes;
  };
  const writes: { name: string; bytes: Uint8Array }[] = [];
  const inputs = req.conversation.images.map((hash, i) => {
    const bytes = bytesOf(hash);
    const name = `${base}-image-${i + 1}.${extensionOf(bytes)}`;
    writes.push({ name, bytes });
    return name;
  });
  const pictures = new Map<string, { file: string; recipe: Recipe }>();
  const wanted = new Set(req.conversation.messages.flatMap((m) => (m.resultId ? [m.resultId] : [])));
  for (const p of req.pictures.filter((p) => wanted.has(p.resultId))) {
    const name = `${base}-picture-${pictures.size + 1}.png`;
    writes.push({ name, bytes: embedRecipe(bytesOf(p.image), p.recipe) });
    pictures.set(p.resultId, { file: name, recipe: p.recipe });
  }
  const markdown = {
    name: `${base}.md`,
    bytes: new TextEncoder().encode(conversationMarkdown(req.conversation, { inputs, pictures })),
  };
  for (const file of [markdown, ...writes]) await writeFileAtomic(fs, join(req.folder, file.name), [file.bytes]);
  return [markdown, ...writes].map((f) => join(req.folder, f.name));
}

function quote(text: string): string {
  return text
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
}

function escapeText(text: string): string {
  return text
    .replace(/[[\]\\]/g, '\\$&')
    .replace(/\s+/g, ' ')
    .slice(0, 200);
}

function extensionOf(b: Uint8Array): string {
  if (b[0] === 0xff && b[1] === 0xd8) return 'jpg';
  if (b[0] === 0x52 && b[1] === 0x49 && b[8] === 0x57 && b[9] === 0x45) return 'webp';
  return 'png';
}
