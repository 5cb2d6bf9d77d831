import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { precompress } from './plugins/precompress.ts'

// The hub serves index.html at /s/{id} and /s/{id}/replay and the assets under /static/, all
// under its prefix when it has one (a JupyterHub service): assets are built relative (`./`) and
// the hub writes `{prefix}/static/` into index.html; chunks load each other relative to themselves.
const hub = process.env.COLLABD_URL ?? 'http://127.0.0.1:8765'

export default defineConfig({
  base: './',
  plugins: [precompress()],
  resolve: {
    // The widget manager's default HTML cleaner is replaced (src/widgets/manager.ts): leave its
    // parser out of the bundle.
    alias: { 'sanitize-html': fileURLToPath(new URL('./src/widgets/sanitizeHtmlShim.ts', import.meta.url)) },
  },
  build: {
    outDir: '../collabd/static',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  server: {
    // `npm run dev` against a running hub: open /s/{id}#token=... on the dev server.
    proxy: {
      '/api': hub,
      '/frame': hub,
      '/ws': { target: hub.replace(/^http/, 'ws'), ws: true },
    },
  },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
  },
})
