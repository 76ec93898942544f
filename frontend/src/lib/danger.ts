// Finds the dangerous stretches of an untrusted string so the UI can highlight them.
// These mirror the broker's argument scanner (consent/risk/args.go, sql.go): the
// broker decides the tier; this only points the person at the text that matters.
import { visibleSegments, type Seg } from './text';

export type DangerKind = 'danger' | 'sensitive' | 'info';

interface Pattern {
  re: RegExp; // must be global
  kind: DangerKind;
  why: string;
}

const P = (src: string, flags: string, kind: DangerKind, why: string): Pattern => ({
  re: new RegExp(src, flags.includes('g') ? flags : flags + 'g'),
  kind,
  why,
});

export const PATTERNS: Pattern[] = [
  // Sensitive paths.
  P(String.raw`(?:~|\$HOME|/(?:home|Users)/[^/\s"']+)?[/\\]?\.ssh(?:[/\\][^\s"'<>]*)?`, 'i', 'sensitive', 'points into ~/.ssh'),
  P(String.raw`(?:~|\$HOME|/(?:home|Users)/[^/\s"']+)?[/\\]?\.aws(?:[/\\][^\s"'<>]*)?(?![a-z0-9_])`, 'i', 'sensitive', 'points into ~/.aws'),
  P(String.raw`(?:~[/\\])?\.(?:gnupg|kube)(?:[/\\][^\s"'<>]*)?`, 'i', 'sensitive', 'points into a credentials directory'),
  P(String.raw`(?:^|(?<=[/\\\s"'=]))\.env(?:rc|\.[a-z0-9_.-]+)?(?=$|[/\\\s"'])`, 'i', 'sensitive', 'names a .env file'),
  P(String.raw`/etc/(?:shadow|gshadow|sudoers|passwd)`, 'i', 'sensitive', 'names a system password or sudo file'),
  P(String.raw`\bid_(?:rsa|dsa|ecdsa|ed25519)\b(?:\.pub)?`, 'i', 'sensitive', 'names an SSH key'),
  P(String.raw`[^\s"'/\\]*\.(?:pem|p12|pfx)(?=$|[\s"'])`, 'i', 'sensitive', 'names a key or certificate file'),
  P(String.raw`(?:\.netrc|\.git-credentials|\.pgpass|\.npmrc|\.pypirc|credentials\.json|\.vault-token|\.my\.cnf|\.docker[/\\]config\.json|\.config[/\\](?:gcloud|gh[/\\]hosts\.yml)|\.terraform\.d[/\\]credentials|/proc/(?:self|thread-self|\d+)/environ\b|\.azure(?=[/\\]|$))`, 'i', 'sensitive', 'names a credentials file'),
  P(String.raw`-----BEGIN [A-Z ]*PRIVATE KEY-----`, '', 'danger', 'contains a private key'),
  // Shell.
  P(String.raw`\brm\s+(?:-{1,2}[a-z-]+\s+)*(?:-[a-z]*[rf][a-z]*|--recursive|--force)\b`, 'i', 'danger', 'deletes files recursively or by force'),
  P(String.raw`\bmkfs(?:\.[a-z0-9]+)?\b`, 'i', 'danger', 'formats a file system'),
  P(String.raw`\bdd\s+[^|;&\n]*\bof=\S*`, 'i', 'danger', 'writes raw to a device or file'),
  P(String.raw`\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:ba|z|k|da|fi)?sh\b|\b(?:ba|z)?sh\s+<\(\s*(?:curl|wget)\b`, 'i', 'danger', 'pipes a download into a shell'),
  P(String.raw`\bsudo\s`, 'i', 'danger', 'runs a command as root'),
  P(String.raw`\b(?:doas|pkexec)\s|\bsu\s+(?:-[a-z]*\s+)*(?:-c|--command|-|--login|root)(?=\s|$)`, 'i', 'danger', 'runs a command as another user'),
  P(String.raw`\b(?:base64\s+(?:-d|--decode|-D)|xxd\s+-r)\b[^;&\n]*\|\s*(?:sudo\s+)?(?:(?:ba|z|k|da|fi)?sh|python[0-9.]*|perl|ruby|node)\b`, 'i', 'danger', 'runs hidden, encoded commands'),
  P(String.raw`\bfind\b[^|;&\n]*\s(?:-delete|-exec\s+rm)\b`, 'i', 'danger', 'deletes files with find'),
  P(String.raw`\bgit\s+clean\s+(?:-[a-z]*f|--force)`, 'i', 'danger', 'deletes untracked files with git clean'),
  P(String.raw`\bshred\s+-\S*`, 'i', 'danger', 'overwrites files with shred'),
  P(String.raw`\bkubectl\s+(?:[^|;&\n]*\s)?delete\b`, 'i', 'danger', 'deletes Kubernetes resources'),
  P(String.raw`\b(?:terraform|tofu)\s+(?:destroy\b|apply\b[^|;&\n]*-auto-approve)`, 'i', 'danger', 'changes or destroys infrastructure without review'),
  P(String.raw`\baws\s+s3\s+(?:rm|rb)\b`, 'i', 'danger', 'deletes cloud storage'),
  P(String.raw`:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:`, '', 'danger', 'is a fork bomb'),
  P(String.raw`>\s*/dev/(?:sd[a-z]|nvme\S*|disk\S*|hd[a-z])`, 'i', 'danger', 'writes over a disk device'),
  P(String.raw`\bchmod\s+(?:-R\s+)?[0-7]?777\b`, 'i', 'danger', 'makes files writable by everyone'),
  P(String.raw`\bgit\s+push\b[^;&|\n]*\s(?:--force|-f)\b`, 'i', 'danger', 'force-pushes with git'),
  P(String.raw`\bgit\s+reset\s+--hard\b`, 'i', 'danger', 'discards work with git reset --hard'),
  P(String.raw`\brm\s+(?:-\S+\s+)*\*|\bxargs\s+(?:-\S+\s+)*rm\b`, 'i', 'danger', 'deletes files by wildcard or by list'),
  P(String.raw`\bgit\s+(?:checkout|restore)\s+(?:\S+\s+)*(?:--\s+)?\.(?=\s|$)|\bgit\s+stash\s+(?:drop|clear)\b`, 'i', 'danger', 'discards work with git'),
  P(String.raw`\bgit\s+branch\s+(?:\S+\s+)*(?:-[a-zA-Z]*D\b|--delete\s+--force|--force\s+--delete)`, '', 'danger', 'force-deletes a git branch'),
  P(String.raw`\bchown\s+(?:-\S+\s+)*-[a-z]*R`, 'i', 'danger', 'changes the owner of a directory tree'),
  P(String.raw`(?<![>&0-9])>\s*(?:(?:~|\$HOME|\$\{HOME\})/\.|/etc/|/usr/|/boot/)\S*`, '', 'danger', 'overwrites a dotfile or system file with a shell redirect'),
  P(String.raw`\b(?:docker|podman)\s+(?:(?:[a-z]+\s+)?prune\b|volume\s+rm\b|(?:rm|rmi)\s+(?:-\S+\s+)*-[a-z]*f)`, 'i', 'danger', 'deletes containers, images or volumes'),
  P(String.raw`\bkill\s+(?:-\S+\s+)*-1(?=\s|$)|\b(?:pkill|killall)\s`, 'i', 'danger', 'stops processes'),
  P(String.raw`(?:^|(?<=[;&|({\x60]|\$\(|\bsudo\s))\s*(?:shutdown|reboot|poweroff|halt|systemctl\s+(?:poweroff|reboot|halt))\b`, 'im', 'danger', 'shuts down or restarts the machine'),
  P(String.raw`\bcrontab\s+(?:-\S+\s+)*-[a-z]*r`, 'i', 'danger', 'removes every scheduled job'),
  P(String.raw`\b(?:curl|http|https|xh)\b[^|;&\n]*(?:\s-X\s*|--request[=\s]+|\s)DELETE\b`, 'i', 'danger', 'sends an HTTP DELETE request'),
  P(String.raw`\b(?:gh|gcloud|az|heroku|flyctl|fly|vercel|doctl|aws)\s+(?:[^|;&\n]*\s)?(?:delete|destroy|terminate-instances|apps:destroy|delete-[a-z-]+)\b`, 'i', 'danger', 'deletes cloud or hosted resources'),
  P(String.raw`\bFLUSH(?:ALL|DB)\b`, 'i', 'danger', 'erases a Redis database'),
  P(String.raw`\btruncate\s+(?:-\S+\s+)*-s\s*0\b`, 'i', 'danger', 'empties files'),
  P(String.raw`\b(?:rmtree|rmSync|rm_rf|rimraf|remove_dir_all)\b`, 'i', 'danger', 'deletes files from code'),
  P(String.raw`\beval\s+["']?\$\(\s*(?:curl|wget)\b`, 'i', 'danger', 'runs a download as commands'),
  P(String.raw`(?:^|(?<=[;&|({\x60]|\$\())\s*(?:(?:npm|pnpm|yarn)\s+publish|cargo\s+publish|twine\s+upload|gem\s+push|poetry\s+publish)\b`, 'im', 'danger', 'publishes a package'),
  // SQL.
  P(String.raw`\bDROP\s+(?:TABLE|DATABASE|SCHEMA|INDEX|VIEW|USER|ROLE|COLUMN|FUNCTION|PROCEDURE|TRIGGER|SEQUENCE|TYPE|EXTENSION|MATERIALIZED\s+VIEW)\b(?:\s+IF\s+EXISTS)?`, 'i', 'danger', 'SQL DROP'),
  P(String.raw`\bTRUNCATE(?:\s+TABLE)?\b`, 'i', 'danger', 'SQL TRUNCATE'),
  P(String.raw`\bALTER\s+(?:TABLE|DATABASE|SCHEMA|USER|ROLE|SYSTEM)\b`, 'i', 'danger', 'SQL ALTER'),
  P(String.raw`\bDELETE\s+FROM\b`, 'i', 'danger', 'SQL DELETE'),
  P(String.raw`\bUPDATE\s+[\w."\x60\[\]]+\s+SET\b`, 'i', 'danger', 'SQL UPDATE'),
  P(String.raw`\b(?:GRANT|REVOKE)\s+[\w ,]+\s+(?:ON|TO|FROM)\b`, 'i', 'danger', 'changes database permissions'),
  P(String.raw`\b(?:xp_cmdshell|sys_exec|sys_eval|load_extension|dblink_exec)\b`, 'i', 'danger', 'runs a program through SQL'),
  P(String.raw`\b(?:pg_terminate_backend|pg_promote|pg_drop_replication_slot|lo_unlink)\b`, 'i', 'danger', 'database administration'),
  P(String.raw`\bTHEN\s+DELETE\b`, 'i', 'danger', 'SQL MERGE … DELETE'),
  P(String.raw`\b(?:EXECUTE\s+IMMEDIATE|sp_executesql|PREPARE\s+\w+\s+FROM)\b|\bEXEC\s*\(`, 'i', 'danger', 'runs dynamic SQL'),
  P(String.raw`\bDO\s+\$[A-Za-z_]*\$`, 'i', 'danger', 'runs an SQL code block'),
  // Where data goes, and what was hidden.
  P(String.raw`\b(?:https?|ftp|file|wss?|ssh|git)://[^\s"'<>\x60]+`, 'i', 'info', 'a URL'),
  P(String.raw`\[REDACTED(?::[^\]\n]{0,80})?\]`, '', 'info', 'a secret Airlock redacted'),
];

export interface Hit {
  start: number;
  end: number;
  kind: DangerKind;
  why: string;
}

const rank: Record<DangerKind, number> = { danger: 3, sensitive: 2, info: 1 };

/** Dangerous spans of s, non-overlapping, in order. s should be bounded (the caller folds). */
export function findDanger(s: string): Hit[] {
  const hits: Hit[] = [];
  for (const p of PATTERNS) {
    p.re.lastIndex = 0;
    let n = 0;
    for (let m = p.re.exec(s); m && n < 200; m = p.re.exec(s), n++) {
      if (m[0].length === 0) {
        p.re.lastIndex++;
        continue;
      }
      hits.push({ start: m.index, end: m.index + m[0].length, kind: p.kind, why: p.why });
    }
  }
  hits.sort((a, b) => a.start - b.start || rank[b.kind] - rank[a.kind] || b.end - a.end);
  // Merge overlaps, keeping the most severe kind and every reason.
  const out: Hit[] = [];
  for (const h of hits) {
    const last = out[out.length - 1];
    if (last && h.start < last.end) {
      last.end = Math.max(last.end, h.end);
      if (rank[h.kind] > rank[last.kind]) last.kind = h.kind;
      if (!last.why.includes(h.why)) last.why += '; ' + h.why;
    } else out.push({ ...h });
  }
  return out;
}

/** Segments of s for display: dangerous spans flagged, invisible characters as markers. */
export function dangerSegments(s: string, opts: { escapeNewlines?: boolean } = {}): (Seg & { k?: DangerKind })[] {
  const out: (Seg & { k?: DangerKind })[] = [];
  let last = 0;
  const push = (text: string, hit?: Hit) => {
    for (const seg of visibleSegments(text, opts)) {
      out.push(hit ? { ...seg, d: true, k: hit.kind, why: hit.why } : seg);
    }
  };
  for (const h of findDanger(s)) {
    if (h.start > last) push(s.slice(last, h.start));
    push(s.slice(h.start, h.end), h);
    last = h.end;
  }
  if (last < s.length) push(s.slice(last));
  return out;
}
