// The one place that names IPC channels and payload types. Main, preload, renderer and tests derive from it.
// Payloads are JSON, Uint8Array and Date only (what both Electron's structured clone and the e2e bridge carry).
// This file has no imports, so it compiles for Node (tsconfig.node.json) and the DOM (tsconfig.web.json).

export type Result<T, E = IpcError> = { ok: true; value: T } | { ok: false; error: E };

/** Every failure that crosses IPC: a code the UI switches on, and a message for people. */
export interface IpcError {
  code: IpcErrorCode;
  message: string;
  /** Extra facts for the UI (e.g. needed/free bytes), never secrets. */
  detail?: Record<string, string | number | boolean>;
}
export type IpcErrorCode =
  | 'invalid-request'
  | 'not-found'
  | 'cancelled'
  | 'busy'
  | 'model-missing'
  | 'model-damaged'
  | 'out-of-memory'
  | 'disk-full'
  | 'network'
  | 'corrupt-file'
  | 'from-future'
  | 'read-only'
  | 'unsupported'
  | 'internal';

// ---------------------------------------------------------------------------------------------------------------
// app
export interface AppInfo {
  name: string;
  version: string;
  platform: string;
  arch: string;
  /** 'electron' in the desktop app, 'node' when the handlers run in plain Node (CLI, headless tests). */
  shell: 'electron' | 'node';
  modelsDir: string;
}

/** An onnxruntime execution provider (engine/onnx/providers.ts). */
export type ExecutionProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
export interface ProviderAttempt {
  provider: ExecutionProviderName;
  ok: boolean;
  /** Why it is not used, in words ("CUDA provider libraries are not installed"); null when ok. */
  error: string | null;
  /** onnxruntime's own message, for a details view or a bug report. */
  detail: string | null;
  /** The failure was remembered from an earlier start rather than probed now. */
  cached: boolean;
  /** Ops that would run on the CPU node by node under this provider. */
  cpuOps: string[];
}
/** Where inference runs and why: the app shows `summary` ("Running on WebGPU (CUDA provider libraries are not installed)"). */
export interface ProviderStatus {
  provider: ExecutionProviderName;
  preference: ProviderPreference;
  reason: string;
  summary: string;
  tried: ProviderAttempt[];
}

// ---------------------------------------------------------------------------------------------------------------
// settings
export type ThemePreference = 'system' | 'light' | 'dark';
/** The interface language; 'system' follows the operating system's languages (English where none is translated). */
export type LanguagePreference = 'system' | 'en' | 'zh-CN';
export type ProviderPreference = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
export interface Settings {
  theme: ThemePreference;
  language: LanguagePreference;
  modelsDir: string;
  /** Converted weights of models outside the models folder (fp16, int8, int4 copies), and other caches. */
  cacheDir: string;
  hubEndpoint: string;
  provider: ProviderPreference;
  memoryMode: 'all-resident' | 'one-at-a-time' | 'low-memory';
  autosaveSeconds: number;
  recentProjects: string[];
  /** Ranged connections per large file while downloading models (1 to 16). */
  downloadConnections: number;
}

// ---------------------------------------------------------------------------------------------------------------
// jobs (generation and the engine host)
export type JobId = string;
export type SchedulerName = 'euler' | 'dpmsolver++';

/** Everything that determines an image; stored in history, projects and the PNG text chunk. */
export interface Recipe {
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  textGuidance: number;
  imageGuidance: number;
  cfgRange: [number, number];
  scheduler: SchedulerName;
  width: number;
  height: number;
  maxPixels: number;
  maxSideLength: number;
  numImages: number;
  acceleration: 'none' | 'teacache' | 'taylorseer';
  /** Content hashes (sha256 hex) of the input images, in order "image 1…5". */
  inputImages: string[];
  modelId: string;
  precision: string;
  appVersion: string;
  /**
   * Chat-mode conditioning (model-notes.md §2.2): the picture was drawn in a conversation, `prompt` being
   * its newest user message and `history` the turns before it; the input images also went through the MLLM.
   * Absent: the standard conditioning.
   */
  chat?: { history: ChatTurnText[] };
}

export interface GenerateRequest {
  /** Model folder name under the models directory (or an absolute folder). */
  model: string;
  recipe: Omit<Recipe, 'inputImages' | 'modelId' | 'precision' | 'appVersion'>;
  /** Encoded image files (PNG, JPEG, WebP…), at most 5. */
  images: Uint8Array[];
}

// ---------------------------------------------------------------------------------------------------------------
// chat (understanding, and pictures drawn from a conversation, §7.1)
/** One turn as the model reads it. */
export interface ChatTurnText {
  role: 'user' | 'assistant';
  text: string;
}
export interface ChatRequest {
  /** Model folder name, as in GenerateRequest.model. */
  model: string;
  /** The conversation so far, ending with the user's new message. */
  turns: ChatTurnText[];
  /** Encoded images the conversation is about, "image 1…5" (`<img1>`…). */
  images: Uint8Array[];
  /** Longest answer in tokens; default 256 (§7.1). */
  maxNewTokens?: number;
}
/** A finished answer (also what 'job.finished' carries for a chat job). */
export interface ChatAnswer {
  /** The whole reply, `<|im_end|>` removed; it starts with `<|img|>` when the model asks to draw. */
  text: string;
  wantsImage: boolean;
  stopReason: 'stop-token' | 'max-tokens';
  promptTokens: number;
  newTokens: number;
  /** From the model being ready to the first new token (image encoding and prefill). */
  firstTokenMs: number;
  /** From the first to the last new token. */
  decodeMs: number;
}
/** One message of a saved conversation. */
export interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  /** The text shown (for a picture answer: what was asked, e.g. the model's `<|img|>`). */
  text: string;
  /** ISO 8601. */
  at: string;
  /** An answer the user stopped before its end. */
  stopped: boolean;
  /** A picture answer: the project result it made (in results and History); null for text. */
  resultId: string | null;
}
export interface Conversation {
  id: string;
  /** ISO 8601. */
  createdAt: string;
  /** The input images the conversation is about, "image 1…5", as of its last message. */
  images: ImageHash[];
  messages: ChatMessage[];
}

export interface JobSummary {
  id: JobId;
  kind: 'generate' | 'probe' | 'chat' | 'reflect';
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  label: string;
}

export interface GeneratedImage {
  /** PNG bytes with the recipe embedded. */
  png: Uint8Array;
  width: number;
  height: number;
  recipe: Recipe;
}

/** Proof that inference runs off the caller's thread: a real ONNX Runtime session in the engine host. */
export interface ProbeRequest {
  /** Matrix size n for n×n MatMuls, and how many chained runs. */
  size: number;
  runs: number;
}
export interface ProbeResult {
  provider: string;
  runs: number;
  ms: number;
  checksum: number;
}

// ---------------------------------------------------------------------------------------------------------------
// projects (local .atelier files, autosave and crash recovery, PNGs that carry their recipe)
/** sha256 (lowercase hex) of an image file's encoded bytes; the same hash as Recipe.inputImages. */
export type ImageHash = string;
/** Images travel next to documents, which refer to them by hash only. */
export interface ProjectImage {
  hash: ImageHash;
  bytes: Uint8Array;
}

/** A rectangle in the source image's pixels. */
export interface CropRect {
  x: number;
  y: number;
  width: number;
  height: number;
}
/** One input image of the workspace; the array order is the "image 1…5" order the prompt refers to. */
export interface ProjectInput {
  hash: ImageHash;
  label: string;
  crop: CropRect | null;
}
/** The generation settings of the workspace: a Recipe without prompts, inputs and model provenance. */
export type ProjectParameters = Omit<
  Recipe,
  'prompt' | 'negativePrompt' | 'inputImages' | 'modelId' | 'precision' | 'appVersion'
>;
export interface CanvasState {
  view: 'grid' | 'single' | 'compare';
  /** 1 = 100 %. */
  zoom: number;
  /** Pan offset in CSS pixels. */
  pan: [number, number];
  selectedResultIds: string[];
}
export interface Workspace {
  inputs: ProjectInput[];
  prompt: string;
  negativePrompt: string;
  parameters: ProjectParameters;
  /** Model folder name, as in GenerateRequest.model. */
  model: string;
  canvas: CanvasState;
}
export interface ProjectResult {
  id: string;
  image: ImageHash;
  width: number;
  height: number;
  recipe: Recipe;
  /** ISO 8601. */
  createdAt: string;
  starred: boolean;
}
/** One step of the project's history: a generation, a reflection job or an imported PNG. */
export interface HistoryEntry {
  id: string;
  kind: 'generate' | 'reflect' | 'import';
  /** ISO 8601. */
  at: string;
  label: string;
  resultIds: string[];
  /** The ReflectionSession this step ran, for kind 'reflect'. */
  reflectionId: string | null;
}

/** Check categories of the reflection checklist (reflection.md §4.2). */
export type CheckTag = 'object' | 'count' | 'color' | 'attribute' | 'position' | 'text' | 'style';
export interface ChecklistItem {
  question: string;
  tag: CheckTag;
  /** p_yes from the critic's first-token logits; null when the check was not asked (its object check failed). */
  probability: number | null;
  passed: boolean;
}
/** A reflection round: a node of the session's tree (reflection.md §4.7). */
export interface ReflectionRound {
  id: string;
  /** The round it continues from; null for round 0. Branches share a parent. */
  parentId: string | null;
  /** 'generate' is round 0; later rounds either edit the parent's output or regenerate (§4.5). */
  mode: 'generate' | 'edit' | 'regenerate';
  /** The exact prompt (generate, regenerate) or edit instruction sent to the generator. */
  text: string;
  seed: number;
  parameters: ProjectParameters;
  inputImages: ImageHash[];
  /** null while the round runs or when it failed. */
  outputImage: ImageHash | null;
  checklist: ChecklistItem[];
  /** The fix the critic proposed for the next round: its raw text and the parsed EDIT line (null if unparsable). */
  fix: { raw: string; parsed: string | null } | null;
  /** (checks passed, mean p_yes), the §4.6 ranking; null until critiqued. */
  score: { passed: number; total: number; meanProbability: number } | null;
  timings: { generateMs: number | null; critiqueMs: number | null; fixMs: number | null };
  modelId: string;
}
export interface ReflectionSession {
  id: string;
  /** The user's prompt: the anchor every round's corrections are computed from. */
  prompt: string;
  /** ISO 8601. */
  createdAt: string;
  /** τ: a check passes when p_yes ≥ threshold. */
  threshold: number;
  /** Parents come before their children. */
  rounds: ReflectionRound[];
  bestRoundId: string | null;
  stopReason: 'done' | 'max-rounds' | 'no-progress' | 'repeated-failures' | 'user' | null;
}

/** Everything a project file holds except the image bytes. */
export interface ProjectDocument {
  /** Stable across saves; names the project's recovery file. */
  id: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; set by main when the project is saved. */
  modifiedAt: string;
  /** The Atelier version that last saved it. */
  appVersion: string;
  workspace: Workspace;
  results: ProjectResult[];
  history: HistoryEntry[];
  reflections: ReflectionSession[];
  /** Chat conversations, oldest first; the workspace's Chat view continues the last one. */
  conversations: Conversation[];
}
export interface OpenedProject {
  /** The file it is saved to; null for a new project, or one recovered before it was ever saved. */
  path: string | null;
  source: 'new' | 'file' | 'recovery';
  document: ProjectDocument;
  images: ProjectImage[];
}
/**
 * `images` needs only the images main has not seen yet: main keeps those of the open project (from open, save,
 * autosave and recover), so each image crosses IPC once.
 */
export interface SaveProjectRequest {
  document: ProjectDocument;
  images: ProjectImage[];
}
export interface SaveProjectAsRequest extends SaveProjectRequest {
  /** Absolute; ".atelier" is appended when missing. */
  path: string;
}
export interface SavedProject {
  path: string;
  modifiedAt: string;
  sizeBytes: number;
}
export interface AutosaveRequest extends SaveProjectRequest {
  /** Write now (e.g. after a finished generation) instead of within the autosave interval. */
  immediate: boolean;
}
export interface AutosaveState {
  /** ISO 8601 of the last recovery file written for this project. */
  lastAutosavedAt: string | null;
  /** A change waits for the next interval. */
  pending: boolean;
}
export interface RecentProject {
  path: string;
  name: string;
  exists: boolean;
}
/** Unsaved work found after a crash: autosaved later than its project file was saved. */
export interface RecoverableProject {
  /** The project's document id; pass it to recover / discardRecovery. */
  id: string;
  projectPath: string | null;
  /** ISO 8601. */
  autosavedAt: string;
  /** ISO 8601 of the project file's last save; null when it was never saved or is gone. */
  savedAt: string | null;
  prompt: string;
  resultCount: number;
}
export interface ExportPngRequest {
  /** Absolute folder the PNGs are written to. */
  folder: string;
  items: { image: ImageHash; recipe: Recipe; fileName: string }[];
  images: ProjectImage[];
}
/** A conversation as Markdown, with its input images and pictures as files beside it. */
export interface ExportChatRequest {
  /** Absolute folder the files are written to. */
  folder: string;
  /** The Markdown file's name; images are named after it (`<name>-image-1.png`, `<name>-picture-1.png`). */
  fileName: string;
  conversation: Conversation;
  /** The results the conversation's picture answers name. */
  pictures: { resultId: string; image: ImageHash; recipe: Recipe }[];
  images: ProjectImage[];
}
export interface ProjectSummary {
  path: string;
  formatVersion: number;
  sizeBytes: number;
  createdAt: string;
  modifiedAt: string;
  appVersion: string;
  prompt: string;
  counts: { inputs: number; results: number; history: number; reflections: number; rounds: number; images: number };
}

// ---------------------------------------------------------------------------------------------------------------
// reflection (reflection.md §4): the model checks its result against the request with yes/no questions, fixes what
// fails by editing or regenerating, and the best round is delivered. Rounds are stored as ReflectionSession above.
/** Live state of a round (§4.7); 'listing-checks' precedes round 0. */
export type ReflectionStage = 'listing-checks' | 'generating' | 'checking' | 'writing-fix';
/** Where the checklist came from: the GenEval-style template parser, the MLLM, its fallback, or the user (§4.2). */
export type ChecklistSource = 'template' | 'model' | 'fallback' | 'user';
/** A per-revision override of the edit/regenerate choice (§4.5). */
export type ReflectionModeChoice = 'auto' | 'edit' | 'regenerate';
export interface CheckSpec {
  question: string;
  tag: CheckTag;
}
export interface ReflectRequest {
  model: string;
  /** Round 0's recipe; its prompt anchors every correction and its seed is the base of each round's seed. */
  recipe: GenerateRequest['recipe'];
  /** The user's input images (an edit or composition job), at most 5. */
  images: Uint8Array[];
  /** Revisions after round 0, 0–5 (default 3, §4.6). */
  maxRevisions: number;
  /** τ: a check passes when p_yes ≥ threshold (0.5 default, 0.65 strict, §4.4). */
  threshold: number;
  /** Mode of revision 1, 2, …; missing entries are 'auto'. */
  force: ReflectionModeChoice[];
  /** The user's checks (edited before round 0 or before continuing); null derives them from the prompt. */
  checklist: CheckSpec[] | null;
  /** "Continue from here": branch from a stored round, optionally with the user's own fix; the new rounds join that session. */
  continueFrom: {
    session: ReflectionSession;
    roundId: string;
    /** The chosen round's output image (the other rounds' images are not needed). */
    image: ProjectImage;
    fix: string | null;
  } | null;
}

// ---------------------------------------------------------------------------------------------------------------
// models (hub downloads, the registry of installed models, import and verification)
/** A hub repository id, "owner/name" (e.g. "OmniGen2/OmniGen2"). */
export type RepoId = string;
/**
 * not-installed: nothing on disk · downloading / verifying: work in progress · paused: partial files kept, resumable
 * (also after a crash or kill) · ready: every file verified · damaged: a verification found missing or altered files.
 */
export type ModelState = 'not-installed' | 'downloading' | 'paused' | 'verifying' | 'ready' | 'damaged';

export interface CatalogueEntry {
  repo: RepoId;
  title: string;
  description: string;
  /** Approximate download size, shown before the hub listing gives the exact one. */
  approxBytes: number;
  license: string;
  homepage: string;
}

export interface InstalledModel {
  repo: RepoId;
  state: ModelState;
  revision: string;
  /** Commit the files came from; null for a plain folder imported without hub checksums. */
  commit: string | null;
  /** Absolute path of the model folder: a plain mirror of the repository, no symlinks. */
  folder: string;
  source: 'download' | 'import';
  /** Where the reference checksums came from: hub listing, hub-cache blob names, or computed at import. */
  checksums: 'hub' | 'hub-cache' | 'local';
  totalBytes: number;
  /** Bytes on disk: finished files plus partial downloads. */
  doneBytes: number;
  fileCount: number;
  verifiedFiles: number;
  updatedAt: string;
  /** Why the last download or verification stopped. */
  error?: IpcError;
  /** Files that failed the last verification. */
  damagedFiles?: string[];
  /** Bytes of the weights converted for this machine (fp16, int8, int4), wherever they are kept; removed with the model. */
  cacheBytes?: number;
}

export interface DownloadRequest {
  repo: RepoId;
  /** Branch, tag or commit; 'main' when absent. */
  revision?: string;
}
export interface CancelDownloadRequest {
  repo: RepoId;
  /** Keep partial files (the model stays paused and can be resumed) instead of deleting them. */
  keepPartial: boolean;
}
export interface ImportModelRequest {
  /** A plain snapshot folder, or the hub cache (`models--owner--name`, or a `snapshots/<rev>` folder inside it). */
  folder: string;
  /** Repository id to register it as; derived from the hub-cache folder name when absent. */
  repo?: RepoId;
}

export interface FileProgress {
  path: string;
  doneBytes: number;
  totalBytes: number;
  bytesPerSec: number;
  etaMs: number | null;
}
export interface DownloadProgress {
  repo: RepoId;
  phase: 'downloading' | 'verifying' | 'importing';
  doneBytes: number;
  totalBytes: number;
  /** Over the last few seconds; falls while a connection stalls. */
  bytesPerSec: number;
  /** null while the speed is unknown. */
  etaMs: number | null;
  filesDone: number;
  fileCount: number;
  /** Files in flight. */
  files: FileProgress[];
  /** The latest retry/restart notice ("connection lost, retrying in 4 s"), null once bytes flow again. */
  notice: string | null;
}

// ---------------------------------------------------------------------------------------------------------------
// The contract: namespace → method. Every method returns a Result.
export interface Contract {
  models: {
    catalogue(): Promise<Result<CatalogueEntry[]>>;
    /** Models known to the registry of the models folder (catalogue entries absent here are not installed). */
    list(): Promise<Result<InstalledModel[]>>;
    /** Starts or resumes a download; answers once the listing and the disk-space check passed. Progress and the
     *  outcome arrive as 'download.progress' and 'model.state' events. */
    download(req: DownloadRequest): Promise<Result<InstalledModel>>;
    pause(repo: RepoId): Promise<Result<InstalledModel>>;
    resume(repo: RepoId): Promise<Result<InstalledModel>>;
    /** Stops a download; without keepPartial its files are deleted and the model is no longer installed. */
    cancel(req: CancelDownloadRequest): Promise<Result<void>>;
    /** Re-hashes every file; answers with 'ready' or 'damaged' (listing the bad files). */
    verify(repo: RepoId): Promise<Result<InstalledModel>>;
    remove(repo: RepoId): Promise<Result<void>>;
    /** Brings an existing folder into the models folder as plain files (hub-cache blobs hard-linked, the rest
     *  copied), verified; a failed check leaves the models folder unchanged. */
    import(req: ImportModelRequest): Promise<Result<InstalledModel>>;
  };
  app: {
    info(): Promise<Result<AppInfo>>;
    openExternal(url: string): Promise<Result<void>>;
    /** The execution provider jobs run on (settings.provider, with the fallback chain for 'auto'); `refresh`
     *  forgets remembered failures and probes again. A requested provider that cannot run fails 'unsupported'. */
    providers(req: { refresh: boolean }): Promise<Result<ProviderStatus>>;
  };
  settings: {
    get(): Promise<Result<Settings>>;
    update(patch: Partial<Settings>): Promise<Result<Settings>>;
  };
  jobs: {
    probe(req: ProbeRequest): Promise<Result<JobId>>;
    generate(req: GenerateRequest): Promise<Result<JobId>>;
    cancel(id: JobId): Promise<Result<void>>;
    list(): Promise<Result<JobSummary[]>>;
    /** Starts a reflection job; its rounds arrive as 'reflect.*' events, the best round's image also in 'job.finished'. */
    reflect(req: ReflectRequest): Promise<Result<JobId>>;
    /** Stops a running reflection now and delivers its best round so far (§4.6 e); 'reflect.finished' follows. */
    acceptReflection(id: JobId): Promise<Result<void>>;
    /** Answers the conversation's newest message; the text streams as 'chat.text' events, the whole answer comes
     *  in 'job.finished'. Stop = cancel (the pieces already streamed are the stopped answer). */
    chat(req: ChatRequest): Promise<Result<JobId>>;
  };
  projects: {
    create(): Promise<Result<OpenedProject>>;
    open(path: string): Promise<Result<OpenedProject>>;
    /** Saves to the open project's file; an untitled project needs saveAs. */
    save(req: SaveProjectRequest): Promise<Result<SavedProject>>;
    saveAs(req: SaveProjectAsRequest): Promise<Result<SavedProject>>;
    /** The user closed the project: main forgets its images and deletes its recovery file. */
    close(): Promise<Result<void>>;
    info(path: string): Promise<Result<ProjectSummary>>;
    recent(): Promise<Result<RecentProject[]>>;
    forgetRecent(path: string): Promise<Result<RecentProject[]>>;
    autosave(req: AutosaveRequest): Promise<Result<AutosaveState>>;
    recoverable(): Promise<Result<RecoverableProject[]>>;
    recover(id: string): Promise<Result<OpenedProject>>;
    discardRecovery(id: string): Promise<Result<void>>;
    /** Returns the paths written. */
    exportPng(req: ExportPngRequest): Promise<Result<string[]>>;
    /** Writes the conversation as Markdown with its images beside it; returns the paths written, Markdown first. */
    exportChat(req: ExportChatRequest): Promise<Result<string[]>>;
    /** The recipe an Atelier PNG carries. */
    readRecipe(png: Uint8Array): Promise<Result<Recipe>>;
  };
  /** The system's file dialogs, which live in main; each answers null when the user cancels. */
  dialogs: {
    /** An absolute path to save a project to; `suggestedName` is the file name offered. */
    saveProjectPath(suggestedName: string): Promise<Result<string | null>>;
    openProjectPath(): Promise<Result<string | null>>;
    /** An absolute folder (model import, PNG export). */
    pickFolder(): Promise<Result<string | null>>;
  };
}

/** Events pushed from main to the renderer. */
export interface Events {
  'download.progress': DownloadProgress;
  'model.state': { repo: RepoId; state: ModelState; model: InstalledModel | null };
  'job.queued': { job: JobSummary };
  'job.started': { jobId: JobId };
  'job.progress': {
    jobId: JobId;
    step: number;
    total: number;
    etaMs: number | null;
    stage: string;
    preview?: Uint8Array;
  };
  'job.finished': { jobId: JobId; images: GeneratedImage[]; probe?: ProbeResult; chat?: ChatAnswer };
  'job.failed': { jobId: JobId; error: IpcError };
  'reflect.checklist': { jobId: JobId; sessionId: string; checks: CheckSpec[]; source: ChecklistSource };
  'reflect.stage': { jobId: JobId; sessionId: string; roundId: string | null; stage: ReflectionStage };
  /** A round's record whenever it changes; its output image (recipe embedded) comes once, with the first record naming it. */
  'reflect.round': { jobId: JobId; sessionId: string; round: ReflectionRound; image: ProjectImage | null };
  /** The session with this run's rounds, best round and stop reason ('user' after accept). */
  'reflect.finished': { jobId: JobId; session: ReflectionSession };
  /** A piece of a chat answer as it streams; pieces concatenate to the answer. */
  'chat.text': { jobId: JobId; piece: string };
  'settings.changed': { settings: Settings };
  /** A project file the system asked Atelier to open (double-clicked, "Open with", dropped on the dock icon). */
  'project.openRequested': { path: string };
}

// Exhaustive by construction: a Contract method missing here fails to compile.
export const METHODS: { [N in keyof Contract]: { [M in keyof Contract[N]]: true } } = {
  models: {
    catalogue: true,
    list: true,
    download: true,
    pause: true,
    resume: true,
    cancel: true,
    verify: true,
    remove: true,
    import: true,
  },
  app: { info: true, openExternal: true, providers: true },
  settings: { get: true, update: true },
  jobs: { probe: true, generate: true, cancel: true, list: true, reflect: true, acceptReflection: true, chat: true },
  projects: {
    create: true,
    open: true,
    save: true,
    saveAs: true,
    close: true,
    info: true,
    recent: true,
    forgetRecent: true,
    autosave: true,
    recoverable: true,
    recover: true,
    discardRecovery: true,
    exportPng: true,
    exportChat: true,
    readRecipe: true,
  },
  dialogs: { saveProjectPath: true, openProjectPath: true, pickFolder: true },
};
export const EVENTS: { [E in keyof Events]: true } = {
  'download.progress': true,
  'model.state': true,
  'job.queued': true,
  'job.started': true,
  'job.progress': true,
  'job.finished': true,
  'job.failed': true,
  'reflect.checklist': true,
  'reflect.stage': true,
  'reflect.round': true,
  'reflect.finished': true,
  'chat.text': true,
  'settings.changed': true,
  'project.openRequested': true,
};

export const invokeChannel = (ns: string, method: string): string => `atelier:${ns}.${method}`;
export const eventChannel = (event: keyof Events): string => `atelier:event:${event}`;

export type AtelierApi = Contract & {
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void;
  /**
   * The absolute path of a dropped file, '' when it has none (a file that is not on disk). Electron's
   * webUtils.getPathForFile in the preload; no IPC, because File objects cannot cross it.
   */
  pathForFile(file: File): string;
};

/** What carries calls and events: Electron's preload and the headless test bridge each provide one. */
export interface Transport {
  invoke(channel: string, args: unknown[]): Promise<unknown>;
  subscribe(channel: string, listener: (payload: unknown) => void): () => void;
}

export function makeApi(transport: Transport, pathForFile: AtelierApi['pathForFile'] = () => ''): AtelierApi {
  const api: Record<string, unknown> = {
    pathForFile,
    on: (event: keyof Events, listener: (p: never) => void) =>
      transport.subscribe(eventChannel(event), listener as (p: unknown) => void),
  };
  for (const [ns, methods] of Object.entries(METHODS)) {
    api[ns] = Object.fromEntries(
      Object.keys(methods).map((m) => [m, (...args: unknown[]) => transport.invoke(invokeChannel(ns, m), args)]),
    );
  }
  return api as unknown as AtelierApi; // METHODS fixes the shape; the data crossed a process boundary
}
