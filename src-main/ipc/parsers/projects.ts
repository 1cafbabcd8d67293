import { isAbsolute } from 'node:path';
import { checkProjectDocument, conversationCheck, recipeCheck } from '../../services/projects/project-schema.ts';
import { SchemaError, hash, id, type Check } from '../../services/projects/schema-checks.ts';
import { PayloadError, args, arr, bool, bytes, obj, str } from '../validate.ts';

const MAX_IMAGE_BYTES = 200 * 1024 * 1024;

/** The project schema is shared with the file reader; here its failures are bad payloads. */
const fromSchema =
  <T>(check: Check<T>) =>
  (v: unknown, path: string): T => {
    try {
      return check(v, path);
    } catch (e) {
      throw e instanceof SchemaError ? new PayloadError(e.message) : e;
    }
  };

/** Paths come from dialogs and drops, which give absolute paths; anything relative would resolve against main's cwd. */
const absolutePath = (v: unknown, path: string): string => {
  const p = str({ nonEmpty: true, max: 4096 })(v, path);
  if (!isAbsolute(p)) throw new PayloadError(`${path} must be an absolute path`);
  return p;
};

const document = fromSchema(checkProjectDocument);
const images = arr(obj({ hash: fromSchema(hash), bytes: bytes({ maxBytes: MAX_IMAGE_BYTES }) }), { max: 100_000 });

export const projectsParsers = {
  create: args(),
  open: args(absolutePath),
  save: args(obj({ document, images })),
  saveAs: args(obj({ path: absolutePath, document, images })),
  close: args(),
  info: args(absolutePath),
  recent: args(),
  forgetRecent: args(str({ max: 4096 })),
  autosave: args(obj({ document, images, immediate: bool })),
  recoverable: args(),
  recover: args(fromSchema(id)),
  discardRecovery: args(fromSchema(id)),
  exportPng: args(
    obj({
      folder: absolutePath,
      items: arr(
        obj({ image: fromSchema(hash), recipe: fromSchema(recipeCheck), fileName: str({ nonEmpty: true, max: 200 }) }),
        { max: 10_000 },
      ),
      images,
    }),
  ),
  exportChat: args(
    obj({
      folder: absolutePath,
      fileName: str({ nonEmpty: true, max: 200 }),
      conversation: fromSchema(conversationCheck),
      pictures: arr(obj({ resultId: fromSchema(id), image: fromSchema(hash), recipe: fromSchema(recipeCheck) }), {
        max: 10_000,
      }),
      images,
    }),
  ),
  readRecipe: args(bytes({ maxBytes: MAX_IMAGE_BYTES })),
};
