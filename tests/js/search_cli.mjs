// Run the registry's search (generator/theme/assets/starmark/search.js) over an index on disk.
//
//   node tests/js/search_cli.mjs <index-dir> [--limit=N] <query>...
//   node tests/js/search_cli.mjs --normalise <text>...
//
// <index-dir> holds meta.json (a built site's search/idx/). Prints a JSON array with one object
// per query: what query() returned, plus "fetched": every file it loaded with its raw and gzip
// sizes, so that the tests and bench/bench_search.py measure what a browser would download.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const source = readFileSync(new URL("../../generator/theme/assets/starmark/search.js", import.meta.url));
// search.js is an ES module with a .js name outside any package.json "type": "module".
const search = await import(`data:text/javascript;base64,${source.toString("base64")}`);

const args = process.argv.slice(2);
const dir = args.shift();
if (dir === "--normalise") {
  // How the browser reads texts: the tests compare this with generator/search.py.
  const out = args.map((text) => ({
    normalise: search.normalise(text),
    compact: search.compactNumber(text),
    looksLikeNumber: search.looksLikeNumber(text),
    grams: search.queryGrams(search.normalise(text)),
  }));
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
}
let limit;
const queries = [];
for (const arg of args) {
  if (arg.startsWith("--limit=")) limit = Number(arg.slice(8));
  else queries.push(arg);
}

const answers = [];
for (const q of queries) {
  const fetched = [];
  const fetchJson = async (path) => {
    const bytes = readFileSync(join(dir, path));
    fetched.push({ path, raw: bytes.length, gzip: gzipSync(bytes, { level: 6 }).length });
    return JSON.parse(bytes.toString("utf8"));
  };
  const result = await search.query(q, fetchJson, limit ? { limit } : {});
  answers.push({ ...result, fetched });
}
process.stdout.write(JSON.stringify(answers) + "\n");
