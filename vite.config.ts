import { defineConfig } from "vitest/config";
import { serviceWorkerPlugin } from "./playground/serviceworker/build.js";

/**
 * One config for the deck (vite dev/build/preview) and the tests (vitest projects).
 *
 * The deck runs cross-origin isolated (COOP/COEP) so a WebContainer can boot; the same
 * headers are served by `npm start` and `npm run preview`. `base: "./"` keeps every asset
 * path relative, so `dist/` works from any sub-path of any static host.
 */
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

export default defineConfig({
  root: "slides",
  base: "./",
  publicDir: "public",
  plugins: [serviceWorkerPlugin()],
  server: { headers: isolation, port: 5173, fs: { allow: [".."] } },
  preview: { headers: isolation, port: 4173 },
  build: { outDir: "../dist", emptyOutDir: true, target: "es2022" },
  worker: { format: "es" },
  test: {
    root: ".",
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          root: ".",
          include: ["runtime/**/*.test.ts", "slides/**/*.test.ts", "playground/**/*.test.ts", "tools/**/*.test.ts", "bench/**/*.test.ts"],
          exclude: ["**/*.serial.test.ts", "**/node_modules/**"],
          environment: "node",
          testTimeout: 20_000,
          // Vitest's default is one worker fewer than the CPUs: one on the 2-core CI machine. These files
          // mostly wait on sockets, child processes and Tornado 6.2, so two at a time keep both
          // cores busy: 175 s -> 91 s for the project on the CI machine's size.
          maxWorkers: 2,
        },
      },
      {
        // Tests that bind the machine's port 8888 (the talk's example as a real process): one
        // file at a time. `npm test` runs them in the same Vitest run as the unit files, which
        // only ever use 8888 on the in-memory network or on a Node-backed WebContainer's own
        // loopback address, and bind real ports as port 0. Vitest puts a one-file-at-a-time
        // project in a group of its own that runs after every other group (groupSpecs in
        // vitest/dist), on one core: so keep this project small (the WebContainer tests left it
        // once each container had its own localhost: 98 s of that tail).
        extends: true,
        test: {
          name: "serial",
          root: ".",
          include: ["**/*.serial.test.ts"],
          exclude: ["**/node_modules/**"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          root: ".",
          include: ["e2e/**/*.test.ts"],
          exclude: ["**/*.serial.test.ts"],
          globalSetup: ["e2e/global-setup.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // One file at a time. Two at a time saved 80-120 s (628-683 s -> 547-564 s) but starved
          // Monaco and the watchdog: a double-click arrived as two clicks, and an endless loop
          // was stopped in 5.13 s against the deck's 5 s promise. The deck's timing is what these
          // tests prove, so they get the machine to themselves.
          fileParallelism: false,
        },
      },
    ],
  },
});
