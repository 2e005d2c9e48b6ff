// Bundles src/main.js (and Cytoscape from node_modules) into api/ui/static/dist/app.js, which the
// Flask blueprint serves. Run by `make bootstrap` after `npm ci`; `node build.mjs --watch` while editing.
import * as esbuild from "esbuild";

const options = {
  entryPoints: ["src/main.js"],
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  outfile: "../api/ui/static/dist/app.js",
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
