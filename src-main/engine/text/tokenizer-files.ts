import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TokenizerError } from './tokenizer-error.ts';

type JsonObject = Record<string, unknown>;

/** The parsed contents of a model's `processor/` folder that the tokenizer needs. */
export interface ProcessorFiles {
  /** The processor folder (what errors about the tokenizer as a whole name). */
  readonly dir: string;
  readonly tokenizerJson: JsonObject;
  readonly tokenizerConfig: JsonObject;
  /** Undefined when neither tokenizer_config.json nor chat_template.json carries a template. */
  readonly chatTemplate?: { readonly text: string; readonly file: string };
}

/**
 * Reads tokenizer.json, tokenizer_config.json and, when needed, chat_template.json.
 * The template in tokenizer_config.json wins: the pipelines call `tokenizer.apply_chat_template` (§2.1), and a
 * transformers tokenizer takes its template from there; chat_template.json is the processor's copy, used only
 * when the tokenizer has none.
 */
export async function readProcessorFiles(dir: string): Promise<ProcessorFiles> {
  const configPath = join(dir, 'tokenizer_config.json');
  const tokenizerJson = await readJsonObject(join(dir, 'tokenizer.json'));
  const tokenizerConfig = await readJsonObject(configPath);
  if (!tokenizerJson || !tokenizerConfig) {
    const missing = !tokenizerJson ? 'tokenizer.json' : 'tokenizer_config.json';
    throw new TokenizerError(
      'not-found',
      join(dir, missing),
      `no ${missing} in ${dir}; the model's processor folder is incomplete`,
    );
  }
  const fromConfig = templateText(tokenizerConfig['chat_template'], configPath);
  if (fromConfig !== undefined)
    return { dir, tokenizerJson, tokenizerConfig, chatTemplate: { text: fromConfig, file: configPath } };

  const templatePath = join(dir, 'chat_template.json');
  const templateJson = await readJsonObject(templatePath);
  if (!templateJson) return { dir, tokenizerJson, tokenizerConfig };
  const text = templateText(templateJson['chat_template'], templatePath);
  if (text === undefined)
    throw new TokenizerError('corrupt', templatePath, `${templatePath} has no "chat_template" entry`);
  return { dir, tokenizerJson, tokenizerConfig, chatTemplate: { text, file: templatePath } };
}

/** A JSON object from disk, or undefined when the file does not exist. */
async function readJsonObject(path: string): Promise<JsonObject | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError('corrupt', path, `${path} is not valid JSON (${(e as Error).message}); re-download it`, {
      cause: e,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenizerError('corrupt', path, `${path} is not a JSON object`);
  }
  return value as JsonObject;
}

/** A `chat_template` value: a string, or (transformers' multi-template form) a list whose "default" entry is used. */
function templateText(value: unknown, file: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const entry: unknown = value.find((v: unknown) => isNamedTemplate(v) && v.name === 'default');
    if (isNamedTemplate(entry)) return entry.template;
  }
  throw new TokenizerError(
    'corrupt',
    file,
    `${file}: "chat_template" is neither a string nor a list with a "default" template`,
  );
}

function isNamedTemplate(v: unknown): v is { name: string; template: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as JsonObject)['name'] === 'string' &&
    typeof (v as JsonObject)['template'] === 'string'
  );
}
