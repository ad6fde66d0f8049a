import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The web UI: plain Vite with its built-in JSX transform (no React plugin). Output: src/web/dist. */
export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // No inline <script> or style: the server's CSP allows only same-origin files.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
