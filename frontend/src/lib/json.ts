// A small JSON reader for untrusted tool arguments. Unlike JSON.parse it keeps
// numbers as written (no silent rounding of 12345678901234567890), keeps every
// duplicate key (servers may read the first one; JSON.parse keeps the last) and
// never evaluates anything.

export type JNode =
  | { t: 'o'; e: [string, JNode][]; dups: string[] }
  | { t: 'a'; e: JNode[] }
  | { t: 's'; v: string }
  | { t: 'n'; v: string }
  | { t: 'b'; v: boolean }
  | { t: 'z' };

export class JSONError extends Error {}

const MAX_DEPTH = 256;

export function parseJSON(src: string): JNode {
  let i = 0;
  const ws = () => {
    while (i < src.length) {
      const c = src.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (msg: string): never => {
    throw new JSONError(`${msg} at offset ${i}`);
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    // Cached positions of the next quote and backslash, so a long string full of
    // escapes is still read in linear time.
    let q = -2;
    let b = -2;
    for (;;) {
      if (q !== -1 && q < i) q = src.indexOf('"', i);
      if (b !== -1 && b < i) b = src.indexOf('\\', i);
      if (q < 0) fail('unterminated string');
      if (b < 0 || q < b) {
        out += src.slice(i, q);
        i = q + 1;
        return out;
      }
      out += src.slice(i, b);
      const e = src[b + 1];
      i = b + 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const h = src.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(h, 16));
          i += 4;
          break;
        }
        default:
          fail('bad escape');
      }
    }
  };
  const value = (depth: number): JNode => {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    ws();
    const c = src[i];
    if (c === '{') {
      i++;
      const e: [string, JNode][] = [];
      const seen = new Set<string>();
      const dups = new Set<string>();
      ws();
      if (src[i] === '}') {
        i++;
        return { t: 'o', e, dups: [] };
      }
      for (;;) {
        ws();
        if (src[i] !== '"') fail('expected a key');
        const k = str();
        if (seen.has(k)) dups.add(k);
        seen.add(k);
        ws();
        if (src[i] !== ':') fail('expected ":"');
        i++;
        e.push([k, value(depth + 1)]);
        ws();
        if (src[i] === ',') { i++; continue; }
        if (src[i] === '}') { i++; return { t: 'o', e, dups: [...dups] }; }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const e: JNode[] = [];
      ws();
      if (src[i] === ']') {
        i++;
        return { t: 'a', e };
      }
      for (;;) {
        e.push(value(depth + 1));
        ws();
        if (src[i] === ',') { i++; continue; }
        if (src[i] === ']') { i++; return { t: 'a', e }; }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return { t: 's', v: str() };
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(src.slice(i, i + 400));
    if (m && m[0]) {
      i += m[0].length;
      return { t: 'n', v: m[0] };
    }
    for (const [lit, node] of [['true', { t: 'b', v: true }], ['false', { t: 'b', v: false }], ['null', { t: 'z' }]] as const) {
      if (src.startsWith(lit, i)) {
        i += lit.length;
        return node as JNode;
      }
    }
    return fail('unexpected character');
  };
  const v = value(0);
  ws();
  if (i !== src.length) fail('trailing data');
  return v;
}

/** A node from an already-decoded JS value (the bridge may have decoded it). */
export function fromValue(v: unknown, depth = 0): JNode {
  if (v === null || v === undefined) return { t: 'z' };
  if (typeof v === 'string') return { t: 's', v };
  if (typeof v === 'number') return { t: 'n', v: String(v) };
  if (typeof v === 'boolean') return { t: 'b', v };
  if (depth > MAX_DEPTH) return { t: 's', v: '…' };
  if (Array.isArray(v)) return { t: 'a', e: v.map((x) => fromValue(x, depth + 1)) };
  if (typeof v === 'object') {
    return { t: 'o', e: Object.entries(v as object).map(([k, x]) => [k, fromValue(x, depth + 1)]), dups: [] };
  }
  return { t: 's', v: String(v) };
}

export type Args = { ok: true; node: JNode } | { ok: false; raw: string; error: string } | { ok: 'none' };

/** request.arguments as a tree: raw JSON text (the contract) or a decoded value. */
export function readArgs(a: unknown): Args {
  if (a === undefined || a === null || a === '') return { ok: 'none' };
  if (typeof a === 'string') {
    try {
      return { ok: true, node: parseJSON(a) };
    } catch (e) {
      return { ok: false, raw: a, error: (e as Error).message };
    }
  }
  return { ok: true, node: fromValue(a) };
}
