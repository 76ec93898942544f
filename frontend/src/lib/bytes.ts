// Go reports span offsets in UTF-8 bytes; JS strings index UTF-16 code units.

/** The UTF-16 index in s of UTF-8 byte offset off (clamped; rounds into the next code point). */
export function byteToIndex(s: string, off: number): number {
  if (off <= 0) return 0;
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    if (bytes >= off) return i;
    const cp = s.codePointAt(i)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp > 0xffff ? 2 : 1;
  }
  return s.length;
}

export interface Range<T> {
  start: number;
  end: number;
  data: T;
}

/** Split s at the given (UTF-16, possibly overlapping) ranges; overlaps go to the earlier range. */
export function splitRanges<T>(s: string, ranges: Range<T>[]): { t: string; data?: T }[] {
  const rs = [...ranges].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: { t: string; data?: T }[] = [];
  let pos = 0;
  for (const r of rs) {
    const start = Math.max(r.start, pos);
    const end = Math.min(r.end, s.length);
    if (end <= start) continue;
    if (start > pos) out.push({ t: s.slice(pos, start) });
    out.push({ t: s.slice(start, end), data: r.data });
    pos = end;
  }
  if (pos < s.length) out.push({ t: s.slice(pos) });
  return out;
}
