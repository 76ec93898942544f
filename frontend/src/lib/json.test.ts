import { describe, expect, it } from 'vitest';
import { parseJSON, readArgs, JSONError } from './json';

describe('parseJSON', () => {
  it('keeps numbers exactly as written', () => {
    const n = parseJSON('{"amount": 12345678901234567890.10}');
    expect(n).toEqual({ t: 'o', e: [['amount', { t: 'n', v: '12345678901234567890.10' }]], dups: [] });
  });
  it('keeps duplicate keys and reports them', () => {
    const n = parseJSON('{"path":"/tmp/a","path":"/root/.ssh/id_rsa"}');
    expect(n.t === 'o' && n.e.length).toBe(2);
    expect(n.t === 'o' && n.dups).toEqual(['path']);
  });
  it('decodes escapes including \\u', () => {
    expect(parseJSON('"a\\n\\u202Eb\\"c"')).toEqual({ t: 's', v: 'a\n\u202Eb"c' });
  });
  it('rejects invalid JSON', () => {
    expect(() => parseJSON('{"a":')).toThrow(JSONError);
    expect(() => parseJSON('{} x')).toThrow(JSONError);
  });
  it('reads a 1 MB string full of escapes quickly', () => {
    const big = JSON.stringify({ s: 'a\n'.repeat(500_000) });
    const t0 = performance.now();
    const n = parseJSON(big);
    console.info(`[bench] parse 1 MB escaped string: ${(performance.now() - t0).toFixed(1)} ms`);
    expect(n.t).toBe('o');
  });
});

describe('readArgs', () => {
  it('accepts raw JSON text, a decoded value, or nothing', () => {
    expect(readArgs('{"a":1}').ok).toBe(true);
    expect(readArgs({ a: 1 }).ok).toBe(true);
    expect(readArgs(undefined).ok).toBe('none');
    const bad = readArgs('{nope');
    expect(bad.ok).toBe(false);
  });
});
