// Source-level guarantees: untrusted text is never rendered as HTML.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const src = join(__dirname);
const sources = files(src).filter((f) => /\.(svelte|ts)$/.test(f) && !f.endsWith('.test.ts'));

describe('no raw HTML', () => {
  it('no component uses {@html}, innerHTML, outerHTML, insertAdjacentHTML or eval', () => {
    expect(sources.length).toBeGreaterThan(10);
    for (const f of sources) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/\{@html/);
      expect(text, f).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|\beval\(|new Function\(/);
    }
  });

  it('only src/api touches window.go and window.runtime', () => {
    for (const f of sources.filter((f) => !f.includes(`${join('src', 'api')}`))) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/window\.(go|runtime)\b|\bwailsjs\b/);
    }
  });
});
