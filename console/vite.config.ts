import { defineConfig } from "vite";

// Served by `arbiter serve` at /console; assets get content hashes (cached for good).
export default defineConfig({
  base: "/console/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
    // Nothing inline: the Content-Security-Policy allows same-origin files only.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } },
  },
});
