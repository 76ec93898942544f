import type { Pending, AskRequest } from '../api/types';

let n = 0;
export function mkPending(req: Partial<AskRequest> = {}, opts: { id?: string; ageMs?: number; ttlMs?: number } = {}): Pending {
  n++;
  const now = Date.now();
  return {
    id: opts.id ?? `req-${n}`,
    created: new Date(now - (opts.ageMs ?? 0)).toISOString(),
    deadline: new Date(now + (opts.ttlMs ?? 120_000)).toISOString(),
    request: {
      kind: 'tool_call',
      server: 'filesystem',
      client: 'Cursor',
      session: 's1',
      tool: 'read_file',
      tier: 1,
      reasons: [{ source: 'argument', tier: 1, text: 'argument arguments.path points into ~/.ssh' }],
      arguments: JSON.stringify({ path: '~/.ssh/id_rsa' }),
      ...req,
    },
  };
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
