// Run the check page's and the certificate page's lookups (generator/theme/assets/starmark/
// check.js and periods.js) under Node, answering requests read from stdin, one JSON line each,
// with one JSON line each (the tests run one Node process, not one per question):
//
//   {"days": [...], "periods": [[from, status, level], ...]}   -> [[index, status, level], ...]
//   {"split": text, "example": number}                          -> splitList(text, example)
//   {"check": index-dir, "numbers": [...], "day": d, "today": t} -> checkList's result, with
//        "fetched": every index file it read and its raw and gzip sizes (what a browser downloads)
//   {"csv": {...checkList result...}, "options": {...}}         -> toCsv(result, options)
//
//   node tests/js/check_cli.mjs
//
// The scripts are ES modules named .js outside any "type": "module" package: they are copied
// to a temporary folder as .mjs, with their imports of each other renamed to match.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const ASSETS = new URL("../../generator/theme/assets/starmark/", import.meta.url);
const folder = mkdtempSync(join(tmpdir(), "starmark-check-"));
for (const name of ["search", "periods", "check"]) {
  const source = readFileSync(new URL(`${name}.js`, ASSETS), "utf8")
    .replaceAll('from "./search.js"', 'from "./search.mjs"')
    .replaceAll('from "./periods.js"', 'from "./periods.mjs"');
  writeFileSync(join(folder, `${name}.mjs`), source);
}
const periods = await import(pathToFileURL(join(folder, "periods.mjs")).href);
const check = await import(pathToFileURL(join(folder, "check.mjs")).href);
rmSync(folder, { recursive: true, force: true });

async function answer(request) {
  if (request.days) {
    return request.days.map((day) => {
      const i = periods.periodOn(request.periods, day);
      return [i, request.periods[i][1], request.periods[i][2]];
    });
  }
  if ("split" in request) return check.splitList(request.split, request.example);
  if (request.check) {
    const fetched = [];
    const fetchJson = async (path) => {
      const bytes = readFileSync(join(request.check, path));
      fetched.push({ path, raw: bytes.length, gzip: gzipSync(bytes, { level: 6 }).length });
      return JSON.parse(bytes.toString("utf8"));
    };
    const result = await check.checkList(request.numbers, request.day, request.today, fetchJson);
    return { ...result, fetched };
  }
  if (request.csv) return check.toCsv(request.csv, request.options);
  throw new Error(`unknown request ${JSON.stringify(request)}`);
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  try {
    process.stdout.write(JSON.stringify({ ok: await answer(JSON.parse(line)) }) + "\n");
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error?.stack ?? error) }) + "\n");
  }
}
