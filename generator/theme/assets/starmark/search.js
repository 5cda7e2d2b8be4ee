// Registry search: pure query functions (exported, run under Node by the tests) and the page
// glue, which only runs when there is a document. The index format is described in
// generator/search.py; normalise(), the grams, the postings code and the shard hash agree with it.

export const FORMAT = 1;
export const PAGE = 20;
const MAX_QUERY = 200; // characters of a query that are searched
const MAX_GRAMS = 8; // grams looked up: more would add bytes, not precision (results are verified)
const MAX_COMMON = 2; // common-gram files fetched for one query
const NARROW_CHUNKS = 8; // candidates in more chunks than this: fetch a common gram to narrow them
const MAX_CHUNKS = 24; // document chunks fetched to verify candidates (unless a page needs more)
const MAX_BLOCKS = 3; // number-directory blocks read per lookup

const DROP = /[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g;
const SPACE = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
const RUN = /[0-9a-z]+|(?:(?![0-9a-z])[\p{L}\p{N}])+/gu;
const NOT_ALNUM = /[^0-9a-z]+/g;
const OTHER_LETTER = /(?![0-9a-z])[\p{L}\p{N}]/u;
const TERMINAL = "0123456789abcdefghijklmnopqrstuv";
const MORE = "wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 32; i++) {
  DIGIT[TERMINAL.charCodeAt(i)] = i;
  DIGIT[MORE.charCodeAt(i)] = 32 + i;
}
const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
const UTF8 = new TextEncoder();

/** NFKC, lower case, invisible characters dropped, white space collapsed to one space. */
export function normalise(text) {
  return String(text ?? "")
    .normalize("NFKC")
    .toLowerCase()
    .replace(DROP, "")
    .replace(SPACE, " ")
    .replace(/^ | $/g, "");
}

/** A certificate number as typed, reduced to ASCII letters and digits: "asc2025000123". */
export function compactNumber(text) {
  return normalise(text).replace(NOT_ALNUM, "");
}

/** Whether a query is a certificate number (or part of one) rather than a name. */
export function looksLikeNumber(text) {
  const n = normalise(text);
  if (OTHER_LETTER.test(n)) return false;
  const compact = n.replace(NOT_ALNUM, "");
  const digits = compact.replace(/[a-z]/g, "").length;
  return digits >= 3 && digits * 2 >= compact.length;
}

/** The runs of a normalised text: ASCII letters and digits, or other letters and digits. */
export function runs(n) {
  return n.match(RUN) ?? [];
}

const isAsciiRun = (run) => run.charCodeAt(0) < 128;

/** The grams whose postings together hold every document containing normalised text n. */
export function queryGrams(n) {
  const grams = [];
  for (const run of runs(n)) {
    if (isAsciiRun(run)) {
      if (run.length < 3) grams.push("^" + run);
      for (let i = 0; i + 3 <= run.length; i++) grams.push(run.slice(i, i + 3));
    } else {
      const chars = Array.from(run);
      if (chars.length === 1) grams.push(chars[0]);
      for (let i = 0; i + 1 < chars.length; i++) grams.push(chars[i] + chars[i + 1]);
    }
  }
  return [...new Set(grams)];
}

/** True when the postings of n's only gram are exactly the documents to show (no verifying). */
function exactByIndex(n) {
  const found = runs(n);
  if (found.length !== 1 || found[0] !== n) return false;
  return isAsciiRun(n) ? n.length <= 3 : Array.from(n).length <= 2;
}

/** True for one or two ASCII letters or digits alone: searched as the start of a word. */
function prefixOnly(n) {
  return /^[0-9a-z]{1,2}$/.test(n);
}

function startsAWord(text, q) {
  for (let at = text.indexOf(q); at >= 0; at = text.indexOf(q, at + 1)) {
    if (at === 0 || !/[0-9a-z]/.test(text[at - 1])) return true;
  }
  return false;
}

/** The delta code of generator/search.py: sorted document ids. */
export function decodePostings(code) {
  const ids = [];
  let last = -1;
  let value = 0;
  for (let i = 0; i < code.length; i++) {
    const d = DIGIT[code.charCodeAt(i)];
    if (d >= 32) value = value * 32 + (d - 32);
    else {
      last += value * 32 + d;
      value = 0;
      ids.push(last);
    }
  }
  return ids;
}

export function crc32(text) {
  let c = 0xffffffff;
  for (const b of UTF8.encode(text)) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function shardOf(gram, shards) {
  return crc32(gram) % shards;
}

function intersect(lists) {
  if (!lists.length) return [];
  const [first, ...rest] = [...lists].sort((a, b) => a.length - b.length);
  const sets = rest.map((list) => new Set(list));
  return first.filter((id) => sets.every((s) => s.has(id)));
}

function spread(items, max) {
  if (items.length <= max) return items;
  return [...new Set(Array.from({ length: max }, (_, i) => items[Math.round((i * (items.length - 1)) / (max - 1))]))];
}

function upperBound(sorted, key) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function memo(fetchJson) {
  const seen = new Map();
  return (path) => {
    if (!seen.has(path)) seen.set(path, fetchJson(path));
    return seen.get(path);
  };
}

function chunkCount(meta, ids, stopAfter = Infinity) {
  const seen = new Set();
  for (const id of ids) {
    seen.add(Math.floor(id / meta.chunk));
    if (seen.size > stopAfter) break;
  }
  return seen.size;
}

async function chunksFor(meta, ids, get) {
  const wanted = [...new Set(ids.map((id) => Math.floor(id / meta.chunk)))];
  const loaded = await Promise.all(wanted.map((k) => get(`d/${k}.json`)));
  return new Map(wanted.map((k, i) => [k, loaded[i]]));
}

const rowOf = (meta, chunks, id) => chunks.get(Math.floor(id / meta.chunk))?.[id % meta.chunk];

/** The searched fields of a document-table row, each normalised, by name. */
function fields(meta, row) {
  const industry = meta.industries[row[5]] ?? ["", "", ""];
  return [
    ["name", row[1]],
    ["name_en", row[7]],
    ["scope_zh", row[6]],
    ["scope_en", row[8]],
    ["region", row[4]],
    ["industry_zh", industry[1]],
    ["industry_en", industry[2]],
  ].map(([field, text]) => [field, normalise(text)]);
}

function matchedField(meta, row, n) {
  return fields(meta, row).find(([, text]) => text.includes(n))?.[0] ?? null;
}

/** Text search: candidates from the gram postings, verified by exact substring when needed. */
async function textSearch(meta, n, get, limit) {
  const none = { hits: [], total: 0, complete: true, candidates: 0 };
  const grams = spread(queryGrams(n), MAX_GRAMS);
  if (!grams.length) return none;
  const shardIds = [...new Set(grams.map((g) => shardOf(g, meta.shards)))];
  const loaded = await Promise.all(shardIds.map((k) => get(`g/${k}.json`)));
  const shards = new Map(shardIds.map((k, i) => [k, loaded[i]]));
  const entries = grams.map((g) => shards.get(shardOf(g, meta.shards))?.[g]);
  if (entries.some((e) => !e)) return none;
  // Inline postings are in the shards already; a common gram's own file is fetched only when
  // the query has nothing rarer, or when what is rarer still leaves too many rows to check. A
  // stop gram has no postings: it rules out few documents, and the rows are checked anyway.
  const inline = entries.filter((e) => typeof e[1] === "string");
  const common = entries.filter((e) => typeof e[1] === "number").sort((a, b) => a[0] - b[0]);
  const stops = entries.filter((e) => e.length === 1);
  const loadCommon = async ([, file]) => decodePostings((await get(`c/${file}.json`)).p);
  let candidates;
  let used = 0;
  if (inline.length) {
    candidates = intersect(inline.map((e) => decodePostings(e[1])));
  } else if (common.length) {
    used = Math.min(MAX_COMMON, common.length);
    candidates = intersect(await Promise.all(common.slice(0, used).map(loadCommon)));
  } else {
    candidates = Array.from({ length: meta.docs }, (_, id) => id);
  }
  while (used < Math.min(MAX_COMMON, common.length) && chunkCount(meta, candidates, NARROW_CHUNKS) > NARROW_CHUNKS) {
    candidates = intersect([candidates, await loadCommon(common[used++])]);
  }
  // A stop gram's count is only an upper bound: with one, rows are checked like any others.
  const bound = inline.length || common.length ? candidates.length : Math.min(...stops.map((e) => e[0]));
  if (exactByIndex(n) && !stops.length) {
    return { hits: candidates.map((id) => ({ id })), total: candidates.length, complete: true, candidates: candidates.length };
  }
  const found = await verify(meta, n, candidates, get, limit);
  return { ...found, candidates: found.complete ? found.total : Math.max(bound, found.total) };
}

/**
 * Keep the candidates whose row contains n. If the rows of every candidate fit in the chunk
 * budget they are all checked and the count is exact; otherwise rows are checked in order only
 * until the page is full, and the count is a lower bound.
 */
async function verify(meta, n, candidates, get, limit) {
  const budget = Math.max(MAX_CHUNKS, limit + 4);
  const contains = prefixOnly(n) ? startsAWord : (text, q) => text.includes(q);
  const matches = (row) => fields(meta, row).some(([, text]) => contains(text, n));
  if (chunkCount(meta, candidates, budget) <= budget) {
    const chunks = await chunksFor(meta, candidates, get);
    const hits = candidates.filter((id) => matches(rowOf(meta, chunks, id))).map((id) => ({ id }));
    return { hits, total: hits.length, complete: true };
  }
  const chunkOf = (id) => Math.floor(id / meta.chunk);
  const hits = [];
  const fetched = new Set();
  let next = 0;
  let size = 0; // candidates per round: doubled each round, so that sparse matches take few trips
  while (hits.length < limit && next < candidates.length && fetched.size < budget) {
    size = Math.max(limit - hits.length, size * 2);
    const batch = [];
    const batchChunks = new Set();
    for (; next < candidates.length && batch.length < size; next++) {
      const k = chunkOf(candidates[next]);
      if (!fetched.has(k) && !batchChunks.has(k) && fetched.size + batchChunks.size >= budget) break;
      batchChunks.add(k);
      batch.push(candidates[next]);
    }
    const chunks = await chunksFor(meta, batch, get);
    for (const k of chunks.keys()) fetched.add(k);
    for (const id of batch) if (matches(rowOf(meta, chunks, id))) hits.push({ id });
  }
  return { hits: hits.slice(0, limit), total: hits.length, complete: next === candidates.length };
}

/** Entries of the number directory whose key starts with prefix. */
async function prefixLookup(prefix, get) {
  const first = await get("n/index.json");
  const out = [];
  if (!first.length) return { entries: out, complete: true };
  const start = Math.max(0, upperBound(first, prefix) - 1);
  for (let j = start, blocks = 0; j < first.length; j++, blocks++) {
    if (j > start && !first[j].startsWith(prefix)) break;
    if (blocks === MAX_BLOCKS) return { entries: out, complete: false };
    for (const [key, id] of await get(`n/${j}.json`)) if (key.startsWith(prefix)) out.push([key, id]);
  }
  return { entries: out, complete: true };
}

/** Number search: the compact query as the start of a number (with or without its letters)
 * or as its end; the certificate whose number it is comes first. */
async function numberSearch(meta, n, get) {
  const compact = n.replace(NOT_ALNUM, "");
  const reversed = "~" + [...compact].reverse().join("");
  const lookups = await Promise.all([compact, reversed].map((p) => prefixLookup(p, get)));
  const exact = new Set();
  const all = new Set();
  for (const { entries } of lookups) {
    for (const [key, id] of entries) {
      all.add(id);
      if (key === compact || key === reversed) exact.add(id);
    }
  }
  const ids = [...all].sort((a, b) => Number(exact.has(b)) - Number(exact.has(a)) || a - b);
  const complete = lookups.every((l) => l.complete);
  return { hits: ids.map((id) => ({ id, exact: exact.has(id), field: "number" })), total: ids.length, complete, candidates: ids.length };
}

function label(list, index) {
  const [key, zh, en] = list[index] ?? ["", "", ""];
  return { key, zh, en };
}

function toResult(meta, row, hit, n) {
  const [number, name, level, verdict, region, industry, scopeZh, nameEn, scopeEn] = row;
  return {
    number,
    name,
    url: `c/${encodeURIComponent(number)}/`,
    level: label(meta.levels, level),
    verdict: label(meta.statuses, verdict),
    region,
    industry: label(meta.industries, industry),
    scope: { zh: scopeZh, en: scopeEn },
    nameEn,
    exact: Boolean(hit.exact),
    field: hit.field ?? matchedField(meta, row, n),
  };
}

/**
 * Search the index. fetchJson(path) loads a file of the index ("meta.json", "g/3.json", ...).
 * Returns { query, mode, looksLikeNumber, results, total, complete, candidates }: results are
 * the first `limit` matches, every one verified; total is exact when complete, else a lower
 * bound (candidates, an upper bound, is how many the index could not rule out).
 */
export async function query(q, fetchJson, { limit = PAGE } = {}) {
  const n = Array.from(normalise(q)).slice(0, MAX_QUERY).join("").replace(/ $/, "");
  const out = { query: n, mode: "empty", looksLikeNumber: false, results: [], total: 0, complete: true, candidates: 0 };
  if (!n) return out;
  const get = memo(fetchJson);
  const meta = await get("meta.json");
  if (meta.format !== FORMAT) throw new Error(`search index format ${meta.format}, expected ${FORMAT}`);
  out.looksLikeNumber = looksLikeNumber(n);
  let found;
  if (out.looksLikeNumber) {
    out.mode = "number";
    found = await numberSearch(meta, n, get);
    // A short run of digits may also be part of a name (a brand such as 361), or a model in a scope.
    if (n.replace(NOT_ALNUM, "").length <= 4) {
      const text = await textSearch(meta, n, get, limit);
      const have = new Set(found.hits.map((h) => h.id));
      const extra = text.hits.filter((h) => !have.has(h.id));
      found = {
        hits: [...found.hits, ...extra],
        total: found.total + extra.length,
        complete: found.complete && text.complete,
        candidates: found.candidates + text.candidates,
      };
    }
  } else {
    out.mode = "text";
    found = await textSearch(meta, n, get, limit);
  }
  const shown = found.hits.slice(0, limit);
  const chunks = await chunksFor(meta, shown.map((h) => h.id), get);
  out.results = shown.map((hit) => toResult(meta, rowOf(meta, chunks, hit.id), hit, n));
  out.total = found.total;
  out.complete = found.complete;
  out.candidates = Math.max(found.candidates, found.total);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The page: only in a browser. Everything inserted is text (textContent), never parsed markup.

const FIELD_LABELS = {
  name_en: ["英文名称", "English name"],
  scope_zh: ["认证范围", "Scope"],
  scope_en: ["认证范围（英文）", "Scope (English)"],
  industry_zh: ["行业", "Industry"],
  industry_en: ["行业", "Industry"],
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== ""));
  return node;
}

const en = (text) => el("span", { lang: "en", class: "sm-en" }, text);

/** Text with the part matching n marked. Characters are normalised one at a time, keeping
 * where each came from; compact drops all but letters and digits (for numbers). */
function marked(text, n, compact = false) {
  const chars = Array.from(text ?? "");
  let norm = "";
  const from = [];
  chars.forEach((ch, i) => {
    let m = ch.normalize("NFKC").toLowerCase().replace(DROP, "");
    if (compact) m = m.replace(NOT_ALNUM, "");
    else if (m.replace(SPACE, " ") === " ") m = norm === "" || norm.endsWith(" ") ? "" : " ";
    for (let j = 0; j < m.length; j++) from.push(i);
    norm += m;
  });
  const at = n ? (compact ? norm.lastIndexOf(n) : norm.indexOf(n)) : -1;
  const frag = document.createDocumentFragment();
  if (at < 0) {
    frag.append(chars.join(""));
    return frag;
  }
  const start = from[at];
  const end = from[at + n.length - 1] + 1;
  frag.append(chars.slice(0, start).join(""), el("mark", {}, chars.slice(start, end).join("")), chars.slice(end).join(""));
  return frag;
}

function countLine(r) {
  const p = el("p", { class: "sm-search__count" });
  const plural = r.total === 1 ? "certificate" : "certificates";
  if (r.complete && r.total === 0) p.append("没有找到匹配的证书。", " ", en("Nothing found."));
  else if (r.complete) p.append(`找到 ${r.total} 个证书`, " / ", en(`${r.total} ${plural} found`));
  else if (r.total === 0) p.append("已核对的部分中没有找到，可继续查找。", " ", en("Nothing found so far; more can be checked."));
  else
    p.append(
      `找到至少 ${r.total} 个证书（可能匹配的最多 ${r.candidates} 个）`,
      " / ",
      en(`At least ${r.total} ${plural} found (at most ${r.candidates} may match)`),
    );
  return p;
}

function resultItem(x, root, n) {
  const compact = n.replace(NOT_ALNUM, "");
  const link = el(
    "a",
    { href: new URL(x.url, root).href, class: "sm-search__link" },
    el("span", { class: "sm-search__number sm-mono" }, x.field === "number" ? marked(x.number, compact, true) : x.number),
    " ",
    el("span", { class: "sm-search__name" }, x.field === "name" ? marked(x.name, n) : x.name),
  );
  const facts = el(
    "p",
    { class: "sm-search__facts" },
    // The status as a coloured badge with its words, for every status (listings do the same).
    el("span", { class: `sm-badge sm-badge--${x.verdict.key} sm-search__verdict sm-search__verdict--${x.verdict.key}` }, x.verdict.zh, " ", en(x.verdict.en)),
    " ",
    el("span", { class: "sm-search__level" }, x.level.zh, " ", en(x.level.en)),
    " · ",
    el("span", { class: "sm-search__region" }, x.field === "region" ? marked(x.region, n) : x.region),
  );
  const item = el("li", { class: "sm-search__result" }, link, facts);
  const where = FIELD_LABELS[x.field];
  if (where) {
    const text = { name_en: x.nameEn, scope_zh: x.scope.zh, scope_en: x.scope.en, industry_zh: x.industry.zh, industry_en: x.industry.en }[x.field];
    item.append(el("p", { class: "sm-search__match" }, `${where[0]} `, en(where[1]), "：", marked(text, n)));
  }
  if (x.exact) item.classList.add("sm-search__result--exact");
  return item;
}

/** fetchJson(path) for a sharded index under the URL `index` whose meta.json names the build's
 * version: the other files are fetched with ?v=<version>, so that a new build never mixes with
 * cached old ones; meta.json itself is revalidated. Each file is fetched once. */
export function indexReader(index) {
  const cache = new Map();
  const fetchJson = (path) => {
    if (!cache.has(path)) {
      const version = path === "meta.json" ? Promise.resolve(null) : fetchJson("meta.json").then((m) => m.version);
      const loading = version.then(async (v) => {
        const url = new URL(path, index);
        if (v) url.searchParams.set("v", v);
        const response = await fetch(url, path === "meta.json" ? { cache: "no-cache" } : {});
        if (!response.ok) throw new Error(`${response.status} ${url}`);
        return response.json();
      });
      loading.catch(() => cache.delete(path));
      cache.set(path, loading);
    }
    return cache.get(path);
  };
  return fetchJson;
}

function bind(box) {
  if (box.dataset.starmarkBound) return;
  box.dataset.starmarkBound = "1";
  const form = box.querySelector("form");
  const input = form?.querySelector('input[name="q"]');
  const out = box.querySelector("[data-starmark-results]");
  const hint = box.querySelector("template[data-starmark-number-hint]");
  if (!form || !input || !out) return;
  const root = new URL("../../", import.meta.url); // this file is <site>/assets/starmark/search.js
  const fetchJson = indexReader(new URL("search/idx/", root));

  let seq = 0;
  let timer = 0;
  let limit = PAGE;

  const render = (r) => {
    out.replaceChildren();
    if (r.mode === "empty") return;
    out.append(countLine(r));
    if (r.total === 0 && r.complete && r.looksLikeNumber && hint) out.append(hint.content.cloneNode(true));
    if (r.results.length) {
      out.append(el("ol", { class: "sm-search__list" }, ...r.results.map((x) => resultItem(x, root, r.query))));
    }
    if (r.results.length < r.total || !r.complete) {
      const more = el("button", { type: "button", class: "md-button sm-search__more" }, "显示更多 ", en("Show more"));
      more.addEventListener("click", () => {
        limit += PAGE;
        run(input.value, { keepLimit: true });
      });
      out.append(more);
    }
  };

  async function run(q, { keepLimit = false } = {}) {
    const mine = ++seq;
    if (!keepLimit) limit = PAGE;
    const url = new URL(window.location.href);
    if (normalise(q)) url.searchParams.set("q", q);
    else url.searchParams.delete("q");
    window.history.replaceState(window.history.state, "", url);
    out.setAttribute("aria-busy", "true");
    try {
      const r = await query(q, fetchJson, { limit });
      if (mine === seq) render(r);
    } catch (error) {
      if (mine !== seq) return;
      out.replaceChildren(
        el("p", { class: "sm-search__error" }, "搜索暂时无法使用，请稍后再试，或浏览", el("a", { href: new URL("list/", root).href }, "证书名录"), "。 ", en("Search is unavailable; try again later or browse the list.")),
      );
      console.error(error);
    } finally {
      if (mine === seq) out.removeAttribute("aria-busy");
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(input.value), 250);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    run(input.value);
  });
  const initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    input.value = initial;
    run(initial);
  }
}

if (typeof document !== "undefined") {
  const start = () => document.querySelectorAll("[data-starmark-search]").forEach(bind);
  start();
  // mkdocs-material's instant navigation swaps pages without reloading modules.
  globalThis.document$?.subscribe?.(start);
}
