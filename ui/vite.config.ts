import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The build goes straight into the Go package that embeds it, so `go build`
// on a fresh clone needs no node. File names carry content hashes only, so
// rebuilding unchanged sources gives byte-identical output (ui/check-dist.sh).
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../internal/ui/dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:4200", ws: true } },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
