import { defineConfig } from "vite";

// The inspector's page. Built into web/dist by `npm run build` (and so by `npm install`), served by
// `geozarr serve`. Everything is bundled: no CDN, nothing fetched at run time but the API and store.
export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  // No SPA fallback: a missing store key must be a 404, not index.html (Zarr readers probe keys).
  appType: "mpa",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: false,
  },
  server: {
    host: "127.0.0.1",
    // `npm run web:dev` against a running `geozarr serve --port 8765`.
    proxy: Object.fromEntries(["/api", "/store", "/overview"].map((p) => [p, "http://127.0.0.1:8765"])),
  },
});
