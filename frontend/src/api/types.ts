// Wire types of the Go ⇄ frontend contract (app/desktop/CONTRACT.md).
// Field names are the json tags of consent/apitype and store.Decision.

export type Kind = 'tool_call' | 'launch' | 'elicitation' | 'oauth';
export type Outcome = 'allow' | 'deny';
export type Scope = 'once' | 'session' | 'always';

export interface Reason {
  source: string; // name | description | annotation | argument | policy
  tier: number;
  text: string;
}

export interface Span {
  where: 'arg' | 'env' | 'exe' | 'dir' | string;
  arg: number;
  envKey?: string;
  start: number; // byte offsets (UTF-8) into the string named by where
  end: number;
  text: string; // credentials already replaced by bullets
  category: string;
  severity: 'warn' | 'danger' | string;
  why: string;
}

export interface EnvVar {
  key: string;
  display: string;
  secret: boolean;
}

export interface Launch {
  argv: string[];
  dir: string;
  executable: string;
  env: EnvVar[] | null;
  spans: Span[] | null;
  fingerprint: string;
  changes?: string[] | null;
}

export interface AskRequest {
  kind: Kind;
  server: string;
  client?: string;
  session?: string;
  tool?: string;
  tier: number;
  reasons?: Reason[] | null;
  /** Redacted arguments: raw JSON text, or (if the bridge decoded it) a JSON value. */
  arguments?: unknown;
  argsHash?: string;
  /** The call names Airlock's own files or an IDE's MCP settings: no grant covers it. */
  protected?: boolean;
  /** The arguments are dangerous in themselves (rm -rf, DROP TABLE, ...): tool grants do not cover it. */
  dangerous?: boolean;
  launch?: Launch | null;
  url?: string;
  message?: string;
}

export interface Decision {
  outcome: Outcome;
  scope?: Scope;
  decidedBy: string;
  channel?: string;
  reason?: string;
}

export interface Pending {
  id: string;
  created: string;
  deadline: string;
  request: AskRequest;
}

export interface Grant {
  id: string;
  kind: Kind;
  server: string;
  tool?: string;
  scope: Scope;
  session?: string;
  argsHash?: string;
  created: string;
  expires?: string;
}

export interface AirlockEvent {
  type: 'snapshot' | 'pending' | 'decided' | 'withdrawn' | 'grants' | string;
  time: string;
  id?: string;
  pending?: Pending[] | null;
  decision?: Decision | null;
  grants?: Grant[] | null;
}

export interface Status {
  mode: 'embedded' | 'attached';
  version: string;
  socket: string;
  cliApprovals: boolean;
  demo: boolean;
}

/** One row of the decision log (store.Decision). */
export interface LogRow {
  id: number;
  time: string;
  kind: string;
  server: string;
  client: string;
  session: string;
  tool: string;
  tier: number; // -1 when not applicable
  args: string;
  args_hash: string;
  outcome: Outcome;
  decided_by: string;
  channel: string;
  scope: string;
  reason: string;
  prev_hash: string;
  hash: string;
}

export interface LogFilter {
  server: string;
  tool: string;
  kind: string;
  outcome: string;
  tier: number; // -1 = any
  text: string;
  sinceHours: number; // 0 = all
  limit: number;
}

export interface VerifyResult {
  ok: boolean;
  rows: number;
  badId: number;
  problem: string;
  detail: string;
}

export interface TimelineBucket {
  allow: number;
  deny: number;
  asked: number;
}

export interface Timeline {
  start: string;
  bucketMinutes: number;
  servers: { server: string; buckets: TimelineBucket[] }[] | null;
}

export interface ServerInfo {
  name: string;
  kind: 'stdio' | 'http';
  command: string[] | null;
  url: string;
  trusted: boolean;
  pinned: boolean;
  pinMatches: boolean;
  fingerprint: string;
}

export interface ToolInfo {
  name: string;
  description: string;
  tier: number;
  reasons: Reason[] | null;
  hidden: boolean;
}

export interface PolicyText {
  path: string;
  text: string;
}

export interface PolicyProblem {
  line: number;
  message: string;
}

export interface Settings {
  approvalTimeoutSeconds: number;
  cliApprovals: boolean;
  noBroker: 'elicit' | 'deny';
  retentionDays: number;
}

export type ClientName = 'claude-desktop' | 'claude-code' | 'cursor' | 'vscode' | 'windsurf';

/** One MCP server entry of an IDE config file. Every string comes from the file. */
export interface ClientEntry {
  name: string;
  /** Project directory of a Claude Code project-scoped entry, else "". */
  project: string;
  transport: 'stdio' | 'http' | 'sse' | '';
  /** Already goes through Airlock; `via` says how ("airlock run github"). */
  protected: boolean;
  via: string;
  /** Why Protect leaves this entry alone ("" when it would protect it). */
  problem: string;
}

/** One IDE config file (Clients()). */
export interface ClientFile {
  client: ClientName | string;
  /** The IDE's name for people: "Cursor", "VS Code", … */
  ide: string;
  /** user, project (the app's working directory) or file (recorded in installs.json elsewhere). */
  scope: 'user' | 'project' | 'file' | string;
  path: string;
  error: string;
  entries: ClientEntry[] | null;
  /** An install of this file is recorded: Restore is possible. */
  installed: boolean;
}

export interface ClientChange {
  name: string;
  project: string;
  /** The servers.json name: the IDE runs `airlock run <server>`. */
  server: string;
  addedServer: boolean;
  /** Keyring names the entry's credentials went to. */
  secrets: string[] | null;
}

/** What Protect / Restore did to one file. */
export interface ClientResult {
  client: string;
  ide: string;
  file: string;
  changed: ClientChange[] | null;
  skipped: ClientEntry[] | null;
  /** Restore: entries left behind Airlock because their credentials are in the keyring. */
  kept: ClientChange[] | null;
  backup: string;
  exact: boolean;
  notes: string[] | null;
  /** "Restart Cursor to apply the change.", or "" when the file did not change. */
  restart: string;
}

/** The whole API surface; implemented by index.ts (Wails) and fake.ts (tests). */
export interface AirlockAPI {
  connected(): boolean;
  status(): Promise<Status>;
  pending(): Promise<Pending[]>;
  decide(id: string, outcome: Outcome, scope: Scope, reason: string): Promise<void>;
  grants(): Promise<Grant[]>;
  revoke(id: string): Promise<void>;
  log(filter: LogFilter): Promise<LogRow[]>;
  verifyLog(): Promise<VerifyResult>;
  exportLog(format: 'jsonl' | 'csv', filter: LogFilter): Promise<string>;
  timeline(hours: number): Promise<Timeline>;
  servers(): Promise<ServerInfo[]>;
  serverTools(name: string): Promise<ToolInfo[]>;
  setTrust(name: string, trusted: boolean): Promise<void>;
  clients(): Promise<ClientFile[]>;
  previewProtect(client: string, path: string): Promise<string>;
  protect(client: string, path: string): Promise<ClientResult>;
  restore(client: string, path: string): Promise<ClientResult>;
  restoreWithSecrets(client: string, path: string): Promise<ClientResult>;
  secrets(): Promise<string[]>;
  setSecret(name: string, value: string): Promise<void>;
  deleteSecret(name: string): Promise<void>;
  policyText(): Promise<PolicyText>;
  checkPolicy(text: string): Promise<PolicyProblem[]>;
  savePolicy(text: string): Promise<PolicyProblem[]>;
  settings(): Promise<Settings>;
  saveSettings(s: Settings): Promise<void>;
  onEvent(cb: (ev: AirlockEvent) => void): () => void;
  onLog(cb: () => void): () => void;
}
