/**
 * Builds the console (`make build` runs this before compiling the binary): Bun bundles
 * index.html with its script and styles, minified, and the three files are written as
 * one JSON object that src/http/console.ts embeds in the binary. Usage: bun console/build.ts <out.json>
 */
const out = process.argv[2];
if (!out) throw new Error("usage: bun console/build.ts <out.json>");

const result = await Bun.build({
  entrypoints: [`${import.meta.dir}/index.html`],
  minify: true,
  naming: { entry: "[name].[ext]", chunk: "[name].[ext]", asset: "[name].[ext]" },
  publicPath: "/console/assets/",
  define: { "process.env.NODE_ENV": '"production"' },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
const files: Record<string, string> = {};
for (const artifact of result.outputs) files[artifact.path.replace(/^.*\//, "")] = await artifact.text();
for (const name of ["index.html", "index.js", "index.css"]) if (!(name in files)) throw new Error(`console build: no ${name} in ${Object.keys(files).join(", ")}`);
await Bun.write(out, JSON.stringify(files));
const gz = (s: string) => Bun.gzipSync(new TextEncoder().encode(s)).length;
console.log(`console: ${Object.entries(files).map(([n, s]) => `${n} ${(s.length / 1024).toFixed(1)} KB (${(gz(s) / 1024).toFixed(1)} KB gzip)`).join(", ")}`);
