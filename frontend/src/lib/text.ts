// Making untrusted text visible: invisible, bidi and control characters become
// markers like ⟨U+202E⟩. Text is always rendered through Svelte's escaping
// interpolation; these helpers only split it into segments.

export interface Seg {
  t: string;
  /** true: t is a marker standing for an invisible character. */
  m?: boolean;
  /** true: t is part of a dangerous span (see danger.ts). */
  d?: boolean;
  /** Why the span is dangerous. */
  why?: string;
  /** Kind of dangerous span. */
  k?: 'danger' | 'sensitive' | 'info';
}

// C0/C1 controls (except \t \n \r, which are handled by the caller), soft hyphen,
// combining grapheme joiner, Arabic letter mark, Hangul fillers, Khmer/Mongolian
// invisibles, zero-width and bidi controls (U+200B–200F, U+202A–202E, U+2060–206F),
// variation selectors, BOM, interlinear annotations, tag characters (U+E0000–E007F),
// line/paragraph separators and lone surrogates.
export const INVISIBLE =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFFB]|[\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;
const INVISIBLE_G = new RegExp(INVISIBLE.source, 'gu');

export const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;

export function marker(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return `⟨U+${cp.toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

export function hasInvisible(s: string): boolean {
  return INVISIBLE.test(s);
}

/** Split s into plain and marker segments. */
export function visibleSegments(s: string, opts: { escapeNewlines?: boolean } = {}): Seg[] {
  const out: Seg[] = [];
  let last = 0;
  const re = opts.escapeNewlines
    ? new RegExp(INVISIBLE.source.replace('[\\u0000-\\u0008', '[\\t\\n\\r\\u0000-\\u0008'), 'gu')
    : INVISIBLE_G;
  re.lastIndex = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index > last) out.push({ t: s.slice(last, m.index) });
    const ch = m[0];
    const t = ch === '\n' ? '\\n' : ch === '\t' ? '\\t' : ch === '\r' ? '\\r' : marker(ch);
    out.push({ t, m: true });
    last = m.index + ch.length;
  }
  if (last < s.length) out.push({ t: s.slice(last) });
  return out;
}

/** s with every invisible character replaced by its marker, as one string (for titles, aria). */
export function visibleString(s: string): string {
  return s.replace(INVISIBLE_G, marker);
}
