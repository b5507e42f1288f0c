// `npm run build`: the sidecar bundled into dist/ with its dependencies. Node's module loader opened some 700
// files at each start (resolving, reading and compiling each), most of the CPU until ready; a bundle is a dozen.
// Types are checked by `npm run typecheck`, not here.
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, URL } from "node:url";

rmSync(new URL("dist/", import.meta.url), { recursive: true, force: true });
const { outputFiles } = await build({
  // main.js is what the image runs; the next three are what the benchmark's sidecar is built from
  // (test/bench/target-sidecar.ts), so it runs the very code the image does. The shadow client's thread starts
  // from shadow-worker.js beside the chunks, at dist/'s top level (see checkShadowWorkerPath).
  entryPoints: [
    { in: "src/main.ts", out: "main" },
    { in: "src/config/index.ts", out: "config/index" },
    { in: "src/logger.ts", out: "logger" },
    { in: "src/wiring/sidecar.ts", out: "wiring/sidecar" },
    { in: "src/shadow/shadow-worker.ts", out: "shadow-worker" },
  ],
  outbase: "src",
  outdir: "dist",
  bundle: true,
  // Code loaded on demand (a store's driver, tracing, the REST API) stays in chunks of its own, loaded when used.
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // The ES module builds where a package has one (graphql's): only what is imported is kept.
  mainFields: ["module", "main"],
  // Whitespace is kept: a production stack trace's line:column then falls on a line of readable code. Mapping it to
  // src/ with --enable-source-maps costs each start ~45 ms of CPU and 13 MB resident (the maps parsed at load);
  // keeping the whitespace costs ~20 ms and 2 MB. The maps still ship, for NODE_OPTIONS=--enable-source-maps.
  minifyWhitespace: false,
  minifySyntax: true,
  sourcemap: true,
  external: [
    // Loads its WebAssembly PostgreSQL and data files from beside its own module.
    "@electric-sql/pglite",
    // Loaded with require() on the first reflection call (src/grpc/reflection.ts); protobufjs evaluates code.
    "@grpc/proto-loader",
    "@grpc/reflection",
  ],
  // The CommonJS packages inside the bundle call require() for Node's built-in modules.
  banner: {
    js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);',
  },
  plugins: [pgOnNode()],
  logLevel: "warning",
  write: false,
});
checkShadowWorkerPath(outputFiles);
for (const file of outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, file.path.endsWith(".js") ? asciiOnly(file.text) : file.contents);
}

// src/shadow/shadow-worker-client.ts finds the thread's entry as "./shadow-worker.js" beside its own module: true
// only where its code lands at dist/'s top level, as esbuild's chunks do. A build that moved it fails here.
function checkShadowWorkerPath(files) {
  const outdir = fileURLToPath(new URL("dist/", import.meta.url));
  const js = files.filter((file) => file.path.endsWith(".js"));
  const referring = js.filter((file) => file.text.includes('"./shadow-worker.js"'));
  const misplaced = referring.filter((file) => dirname(file.path) + "/" !== outdir);
  if (
    !js.some((file) => file.path === `${outdir}shadow-worker.js`) ||
    referring.length === 0 ||
    misplaced.length
  )
    throw new Error(
      `the shadow worker's entry is not where its client looks for it: ${misplaced.map((f) => f.path)}`,
    );
}

// esbuild escapes every non-ASCII character of the code, but not of the comments it keeps (a class member's doc
// comment): one "…" there and V8 holds the whole file's source, kept for lazy compilation, as two bytes a character
// (1.3 MB more at start). Each is replaced by as many "?" as its UTF-16 length, so source map columns stay true.
function asciiOnly(text) {
  return text.replace(/[\u{80}-\u{10ffff}]/gu, (char) => "?".repeat(char.length));
}

// pg asks, as it loads, whether it runs on Cloudflare Workers: by navigator.userAgent, or where Node has no
// `navigator` (Node 20) by constructing a Response, which makes Node load and compile its bundled undici at every
// start (100 ms of CPU and 5 MB resident of a 0.4 s start). The sidecar runs on Node: that second test is dropped.
function pgOnNode() {
  const sneakyCheck = "if (typeof Response === 'function') {";
  return {
    name: "pg-on-node",
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
        const source = readFileSync(args.path, "utf8");
        if (source.split(sneakyCheck).length !== 2)
          throw new Error(`pg's ${args.path} changed: review pgOnNode`);
        return { contents: source.replace(sneakyCheck, "if (false) {"), loader: "js" };
      });
    },
  };
}
