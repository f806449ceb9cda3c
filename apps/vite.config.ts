/**
 * One Vite build for the three SMART apps: each is an HTML entry under its own folder, built into
 * apps/dist/<app>/ with shared chunks in apps/dist/assets/. The server serves apps/dist at /apps/.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const APPS = ['booking', 'charting', 'analytics'];
// For working on one app at a time: APPS_ONLY=booking builds just that one, APPS_OUT_DIR elsewhere
// (the server then serves it with APPS_DIST set to the same folder).
const only = process.env.APPS_ONLY ? process.env.APPS_ONLY.split(',') : APPS;

export default defineConfig({
  root: here('.'),
  base: '/apps/',
  plugins: [react()],
  // One React: fhirclient's optional expo dependency leaves an unrelated React 18 hoisted at the root.
  resolve: { dedupe: ['react', 'react-dom'] },
  build: {
    outDir: process.env.APPS_OUT_DIR || here('dist'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: Object.fromEntries(only.map((app) => [app, here(`${app}/index.html`)])),
    },
  },
});
