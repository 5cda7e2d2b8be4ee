// Run the registry's search (generator/theme/assets/starmark/search.js) over an index on disk.
//
//   node tests/js/search_cli.mjs <index-dir> [--limit=N] <query>...
//   node tests/js/search_cli.mjs --normalise <text>...
//   node tests/js/search_cli.mjs --serve
//
// <index-dir> holds meta.json (a built site's search/idx/). Prints a JSON array with one object
// per query: what query() returned, plus "fetched": every file it loaded with its raw and gzip
// sizes, so that the tests and bench/bench_search.py measure what a browser would download.
// --serve answers requests read from stdin, one JSON line each ({"dir", "query", "limit"} or
// {"normalise"}), with one JSON line each: the tests run one Node process, not one per query.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { gzipSync } from "node:zlib";

const source = readFileSync(new URL("../../generator/theme/assets/starmark/search.js", import.meta.url));
// search.js is an ES module with a .js name outside any package.json "type": "module".
const search = await import(`data:text/javascript;base64,${source.toString("base64")}`);

/** How the browser reads a text: the tests compare this with generator/search.py. */
function reading(text) {
  return {
    normalise: search.normalise(text),
    compact: search.compactNumber(text),
    looksLikeNumber: search.looksLikeNumber(text),
    grams: search.queryGrams(search.normalise(text)),
  };
}

async function answer(dir, q, limit) {
  const fetched = [];
  const fetchJson = async (path) => {
    const bytes = readFileSync(join(dir, path));
    fetched.push({ path, raw: bytes.length, gzip: gzipSync(bytes, { level: 6 }).length });
    return JSON.parse(bytes.toString("utf8"));
  };
  const result = await search.query(q, fetchJson, limit ? { limit } : {});
  return { ...result, fetched };
}

const args = process.argv.slice(2);
const first = args.shift();
if (first === "--serve") {
  for await (const line of createInterface({ input: process.stdin })) {
    const request = JSON.parse(line);
    let reply;
    try {
      reply = "normalise" in request ? reading(request.normalise) : await answer(request.dir, request.query, request.limit);
    } catch (error) {
      reply = { error: String(error?.stack ?? error) };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
  }
} else if (first === "--normalise") {
  process.stdout.write(JSON.stringify(args.map(reading)) + "\n");
} else {
  let limit;
  const queries = [];
  for (const arg of args) {
    if (arg.startsWith("--limit=")) limit = Number(arg.slice(8));
    else queries.push(arg);
  }
  const answers = [];
  for (const q of queries) answers.push(await answer(first, q, limit));
  process.stdout.write(JSON.stringify(answers) + "\n");
}
