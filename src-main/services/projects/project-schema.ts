// The schema of ProjectDocument (contract.ts, projects section), checked wherever a document enters: read from
// a file, or sent by the renderer. Past the field checks it enforces what makes a document coherent: unique
// ids, references that resolve, reflection rounds whose parents come first (so the rounds form a tree).
import type {
  CanvasState,
  ChatMessage,
  ChecklistItem,
  Conversation,
  HistoryEntry,
  ImageHash,
  ProjectDocument,
  ProjectInput,
  ProjectParameters,
  ProjectResult,
  Recipe,
  ReflectionRound,
  ReflectionSession,
  Workspace,
} from '../../ipc/contract.ts';
import {
  SchemaError,
  bool,
  hash,
  id,
  list,
  num,
  nullable,
  oneOf,
  optional,
  pair,
  shape,
  text,
  time,
  type Check,
} from './schema-checks.ts';

// Caps guard against absurd payloads; product limits (e.g. five inputs per generation) belong to the UI.
const PROMPT = text({ max: 20_000 });
const LABEL = text({ max: 1_000 });
const MANY = 100_000;

const parameterFields = {
  seed: num({ int: true, min: 0, max: 2 ** 32 - 1 }),
  steps: num({ int: true, min: 1, max: 500 }),
  textGuidance: num({ min: 0, max: 30 }),
  imageGuidance: num({ min: 0, max: 30 }),
  cfgRange: pair(num({ min: 0, max: 1 })),
  scheduler: oneOf(['euler', 'dpmsolver++'] as const),
  width: num({ int: true, min: 16, max: 8192 }),
  height: num({ int: true, min: 16, max: 8192 }),
  maxPixels: num({ int: true, min: 256, max: 64 * 1024 * 1024 }),
  maxSideLength: num({ int: true, min: 16, max: 16384 }),
  numImages: num({ int: true, min: 1, max: 8 }),
  acceleration: oneOf(['none', 'teacache', 'taylorseer'] as const),
};
export const parametersCheck: Check<ProjectParameters> = shape(parameterFields);

const chatTurn = shape({ role: oneOf(['user', 'assistant'] as const), text: PROMPT });

export const recipeCheck: Check<Recipe> = shape({
  ...parameterFields,
  prompt: PROMPT,
  negativePrompt: PROMPT,
  inputImages: list(hash, { max: 16 }),
  modelId: text({ max: 4096 }),
  precision: text({ max: 64 }),
  appVersion: text({ max: 64 }),
  chat: optional(shape({ history: list(chatTurn, { max: 1_000 }) })),
});

const pixels = num({ min: 0, max: 1 << 20 });
const input: Check<ProjectInput> = shape({
  hash,
  label: LABEL,
  crop: nullable(shape({ x: pixels, y: pixels, width: pixels, height: pixels })),
});

const canvas: Check<CanvasState> = shape({
  view: oneOf(['grid', 'single', 'compare'] as const),
  zoom: num({ min: 0.01, max: 100 }),
  pan: pair(num({ min: -1e7, max: 1e7 })),
  selectedResultIds: list(id, { max: MANY }),
});

const workspace: Check<Workspace> = shape({
  inputs: list(input, { max: 1_000 }),
  prompt: PROMPT,
  negativePrompt: PROMPT,
  parameters: parametersCheck,
  model: text({ max: 4096 }),
  canvas,
});

const result: Check<ProjectResult> = shape({
  id,
  image: hash,
  width: num({ int: true, min: 1, max: 65_536 }),
  height: num({ int: true, min: 1, max: 65_536 }),
  recipe: recipeCheck,
  createdAt: time,
  starred: bool,
});

const historyEntry: Check<HistoryEntry> = shape({
  id,
  kind: oneOf(['generate', 'reflect', 'import'] as const),
  at: time,
  label: LABEL,
  resultIds: list(id, { max: MANY }),
  reflectionId: nullable(id),
});

const probability = num({ min: 0, max: 1 });
const duration = nullable(num({ min: 0, max: 1e9 }));
const checklistItem: Check<ChecklistItem> = shape({
  question: LABEL,
  tag: oneOf(['object', 'count', 'color', 'attribute', 'position', 'text', 'style'] as const),
  probability: nullable(probability),
  passed: bool,
});

const round: Check<ReflectionRound> = shape({
  id,
  parentId: nullable(id),
  mode: oneOf(['generate', 'edit', 'regenerate'] as const),
  text: PROMPT,
  seed: parameterFields.seed,
  parameters: parametersCheck,
  inputImages: list(hash, { max: 16 }),
  outputImage: nullable(hash),
  checklist: list(checklistItem, { max: 64 }),
  fix: nullable(shape({ raw: PROMPT, parsed: nullable(PROMPT) })),
  score: nullable(
    shape({
      passed: num({ int: true, min: 0, max: 64 }),
      total: num({ int: true, min: 0, max: 64 }),
      meanProbability: probability,
    }),
  ),
  timings: shape({ generateMs: duration, critiqueMs: duration, fixMs: duration }),
  modelId: text({ max: 4096 }),
});

export const reflection: Check<ReflectionSession> = shape({
  id,
  prompt: PROMPT,
  createdAt: time,
  threshold: probability,
  rounds: list(round, { max: 1_000 }),
  bestRoundId: nullable(id),
  stopReason: nullable(oneOf(['done', 'max-rounds', 'no-progress', 'repeated-failures', 'user'] as const)),
});

const chatMessage: Check<ChatMessage> = shape({
  id,
  role: oneOf(['user', 'assistant'] as const),
  text: PROMPT,
  at: time,
  stopped: bool,
  resultId: nullable(id),
});

export const conversationCheck: Check<Conversation> = shape({
  id,
  createdAt: time,
  images: list(hash, { max: 16 }),
  messages: list(chatMessage, { max: MANY }),
});

const documentFields: Check<ProjectDocument> = shape({
  id,
  createdAt: time,
  modifiedAt: time,
  appVersion: text({ max: 64 }),
  workspace,
  results: list(result, { max: MANY }),
  history: list(historyEntry, { max: MANY }),
  reflections: list(reflection, { max: MANY }),
  conversations: list(conversationCheck, { max: MANY }),
});

/** Checks fields and cross-references; throws SchemaError naming the first problem. */
export function checkProjectDocument(value: unknown, at: string): ProjectDocument {
  const doc = documentFields(value, at);
  const resultIds = uniqueIds(doc.results, `${at}.results`);
  const reflectionIds = uniqueIds(doc.reflections, `${at}.reflections`);
  uniqueIds(doc.history, `${at}.history`);
  const mustBeResult = (rid: string, where: string) => {
    if (!resultIds.has(rid)) throw new SchemaError(where, `refers to result "${rid}", which the project does not have`);
  };
  doc.workspace.canvas.selectedResultIds.forEach((rid, i) =>
    mustBeResult(rid, `${at}.workspace.canvas.selectedResultIds[${i}]`),
  );
  doc.history.forEach((entry, i) => {
    entry.resultIds.forEach((rid, j) => mustBeResult(rid, `${at}.history[${i}].resultIds[${j}]`));
    if (entry.reflectionId !== null && !reflectionIds.has(entry.reflectionId)) {
      throw new SchemaError(
        `${at}.history[${i}].reflectionId`,
        `refers to reflection "${entry.reflectionId}", which the project does not have`,
      );
    }
  });
  doc.reflections.forEach((session, i) => checkRoundTree(session, `${at}.reflections[${i}]`));
  uniqueIds(doc.conversations, `${at}.conversations`);
  doc.conversations.forEach((c, i) => {
    uniqueIds(c.messages, `${at}.conversations[${i}].messages`);
    c.messages.forEach((m, j) => {
      if (m.resultId !== null) mustBeResult(m.resultId, `${at}.conversations[${i}].messages[${j}].resultId`);
    });
  });
  return doc;
}

/** The rounds form a tree: each parent appears before its child, which also rules out cycles. */
function checkRoundTree(session: ReflectionSession, at: string): void {
  const seen = new Set<string>();
  session.rounds.forEach((r, i) => {
    if (seen.has(r.id)) throw new SchemaError(`${at}.rounds[${i}].id`, `repeats the id "${r.id}"`);
    if (r.parentId !== null && !seen.has(r.parentId)) {
      throw new SchemaError(
        `${at}.rounds[${i}].parentId`,
        `must name an earlier round of the same session, got "${r.parentId}"`,
      );
    }
    seen.add(r.id);
  });
  if (session.bestRoundId !== null && !seen.has(session.bestRoundId)) {
    throw new SchemaError(`${at}.bestRoundId`, `names no round of this session ("${session.bestRoundId}")`);
  }
}

function uniqueIds(items: readonly { id: string }[], at: string): Set<string> {
  const ids = new Set<string>();
  items.forEach((item, i) => {
    if (ids.has(item.id)) throw new SchemaError(`${at}[${i}].id`, `repeats the id "${item.id}"`);
    ids.add(item.id);
  });
  return ids;
}

/**
 * The images a document refers to, each once. `required` must be stored with it. `optional` are the inputs
 * named by result recipes and conversations: kept when available, but a recipe imported from someone else's PNG names images
 * this project never had, so their absence is no error.
 */
export function imageRefs(doc: ProjectDocument): { required: ImageHash[]; optional: ImageHash[] } {
  const required = new Set<ImageHash>();
  for (const input of doc.workspace.inputs) required.add(input.hash);
  for (const r of doc.results) required.add(r.image);
  for (const session of doc.reflections) {
    for (const r of session.rounds) {
      r.inputImages.forEach((h) => required.add(h));
      if (r.outputImage !== null) required.add(r.outputImage);
    }
  }
  // A conversation's images are kept with it for export and for continuing it, but the inputs may have changed since.
  const named = [...doc.results.flatMap((r) => r.recipe.inputImages), ...doc.conversations.flatMap((c) => c.images)];
  const optional = new Set(named.filter((h) => !required.has(h)));
  return { required: [...required], optional: [...optional] };
}
