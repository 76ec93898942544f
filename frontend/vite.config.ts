import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

// tiny-rdm style seam: under Vitest, `$api` resolves to the in-memory fake.
const apiModule = process.env.VITEST ? src('api/fake.ts') : src('api/index.ts');

export default defineConfig({
  base: './',
  plugins: [
    svelte(),
    // vite empties dist/; put back the committed placeholder so `go build` embeds something.
    { name: 'keep-gitkeep', closeBundle: () => writeFileSync(fileURLToPath(new URL('./dist/.gitkeep', import.meta.url)), '') }, ...(process.env.VITEST ? [svelteTesting()] : [])],
  resolve: {
    alias: [{ find: /^\$api$/, replacement: apiModule }],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
  },
});
