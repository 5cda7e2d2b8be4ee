// The bulk check (/check/): pure functions (exported, run under Node by the tests) and the page
// glue, which only runs when there is a document. The status index is described in
// generator/check.py; splitList agrees with check.split_list, compactNumber and crc32 are the
// search's own (search.js), and the periods are only looked up (periods.js), never derived here.

import { compactNumber, crc32 } from "./search.js";
import { isDay, localDay, periodOn } from "./periods.js";

export const FORMAT = 1;
const BETWEEN = /[\r\n\t,;\u3001]+/;
const SPACE = /\s+/;
const DIGIT = /[0-9]/;

/** The numbers in a pasted list, as typed, in order (see check.split_list). */
export function splitList(text, example) {
  const full = compactNumber(example).length;
  const found = [];
  for (const piece of String(text ?? "").normalize("NFKC").split(BETWEEN)) {
    const words = piece.trim().split(SPACE).filter(Boolean);
    let current = [];
    for (const word of words) {
      if (current.length && compactNumber(current.join("")).length >= full) {
        found.push(current.join(" "));
        current = [];
      }
      current.push(word);
    }
    if (current.length) found.push(current.join(" "));
  }
  return found.filter((n) => DIGIT.test(compactNumber(n)));
}

/** Numbers with the same compact form merged, in order of first appearance. */
export function merge(numbers) {
  const by = new Map();
  for (const typed of numbers) {
    const key = compactNumber(typed);
    if (!by.has(key)) by.set(key, { key, typed: [] });
    by.get(key).typed.push(typed);
  }
  return [...by.values()];
}

/** The answer for one day from an index entry's periods. */
export function answerOn(meta, periods, day) {
  const [from, status, level] = periods[periodOn(periods, day)];
  const [zh, en] = meta.statuses[status] ?? [status, status];
  const [levelZh, levelEn] = level ? meta.levels[level] ?? [level, level] : ["", ""];
  return { day, status, zh, en, level, levelZh, levelEn, since: from };
}

/** The merged numbers a check answers (at most `max`, and the index's own limit). */
export function asked(meta, numbers, max = Infinity) {
  const merged = merge(numbers);
  return { merged, asked: merged.slice(0, Math.min(max, meta.max ?? Infinity)) };
}

/** The status index file that holds a compact number. */
export function shardPath(meta, key) {
  return `${crc32(key) % meta.shards}.json`;
}

/** Check merged numbers on `day` (optional) and `today`: one row each, in order.
 * `fetchJson(path)` reads a file of the status index (meta.json, <k>.json). */
export async function checkList(numbers, day, today, fetchJson, max = Infinity) {
  const meta = await fetchJson("meta.json");
  if (meta.format !== FORMAT) throw new Error(`status index format ${meta.format}`);
  const { merged, asked: items } = asked(meta, numbers, max);
  const shards = new Map();
  for (const item of items) {
    const path = shardPath(meta, item.key);
    if (!shards.has(path)) shards.set(path, fetchJson(path));
  }
  const rows = [];
  for (const item of items) {
    const shard = await shards.get(shardPath(meta, item.key));
    const entries = item.key ? shard[item.key] ?? [] : [];
    if (!entries.length) rows.push({ ...item, found: false });
    for (const entry of entries) {
      if (entry.x) {
        rows.push({ ...item, found: false, number: entry.n, counterfeit: entry.x });
        continue;
      }
      rows.push({
        ...item, found: true, number: entry.n, organisation: entry.o,
        on: day ? answerOn(meta, entry.p, day) : null,
        today: answerOn(meta, entry.p, today),
      });
    }
  }
  return { meta, rows, cut: merged.length - items.length, merged: numbers.length - merged.length };
}

/** The address of an index file: a shard's carries the build version (from meta.json), so that
 * a new build never mixes with cached old shards. */
export function shardUrl(index, path, meta) {
  const url = new URL(path, index);
  url.searchParams.set("v", meta.version);
  return url;
}

function json(response, url) {
  return response.ok ? response.json() : Promise.reject(new Error(`${response.status} ${url}`));
}

/** The requests a check of a shared link (`search`: ?q=…) needs, started at once: meta.json
 * afresh (cache: no-cache) and parsed, the signed checkpoint, and the index files its numbers
 * are in. The page's head runs this same code before check.js arrives: generator/check.py
 * copies this function and what it calls from this file and search.js into an inline script
 * (check.early_script), with `known`, what the build knows of meta.json (format, shard count,
 * example, max), so that the index files are asked for at once, each afresh (cache: no-cache;
 * without the build version, which only meta.json has): a file is the server's current one
 * whatever the page believed, so a page older than the index costs requests, never a wrong
 * answer. Without `known` they wait for meta.json. statusReader and checkpoint() take the
 * requests over. */
export function startRequests(root, search, known = null) {
  const index = new URL("api/v1/status/", root);
  const meta = new URL("meta.json", index);
  const started = {
    meta: fetch(meta, { cache: "no-cache" }).then((r) => json(r, meta)),
    checkpoint: fetch(new URL("api/v1/checkpoint.json", root), { cache: "no-cache" }),
    shards: new Map(),
  };
  const q = new URLSearchParams(search).get("q");
  const ask = (m, fresh) => {
    if (m.format !== FORMAT) return;
    for (const item of asked(m, splitList(q, m.example)).asked) {
      const path = shardPath(m, item.key);
      if (started.shards.has(path)) continue;
      const response = fresh ? fetch(new URL(path, index), { cache: "no-cache" }) : fetch(shardUrl(index, path, m));
      response.catch(() => {}); // reported by the check that reads it
      started.shards.set(path, response);
    }
  };
  // In a task of its own: a script run while the page is parsed holds the parser, and the page's
  // stylesheets and scripts are asked for first.
  if (q && known) setTimeout(() => ask(known, true));
  // Without `known`, or if the index has been resharded since the page was built: by meta.json.
  if (q) started.meta.then((m) => { if (m.shards !== known?.shards) ask(m, false); }, () => {});
  return started;
}

/** A reader of the status index under the URL `index`: each file fetched once; meta.json afresh,
 * the shards at shardUrl (as search.js's indexReader reads the search index). `early`: requests
 * already under way (startRequests), each used once, so that after a failure a check asks anew. */
export function statusReader(index, early = {}) {
  const cache = new Map();
  const fetchJson = (path) => {
    if (!cache.has(path)) {
      let loading;
      if (path === "meta.json") {
        const url = new URL(path, index);
        loading = early.meta ?? fetch(url, { cache: "no-cache" }).then((r) => json(r, url));
        early.meta = null;
      } else {
        const response = early.shards?.get(path);
        early.shards?.delete(path);
        loading = fetchJson("meta.json").then(async (meta) => {
          const url = shardUrl(index, path, meta);
          return json(await (response ?? fetch(url)), url);
        });
      }
      loading.catch(() => cache.delete(path));
      cache.set(path, loading);
    }
    return cache.get(path);
  };
  return fetchJson;
}

/** A CSV cell: quoted when needed; text starting = + - @ tab or CR is prefixed with ' so that a
 * spreadsheet never runs it as a formula (as generator/data.py writes certificates.csv). */
export function csvCell(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The result as CSV: UTF-8 with a byte-order mark (Excel reads Chinese right), CRLF lines. */
export function toCsv(result, { day, today, checkpoint, checkedAt, siteUrl }) {
  const head = ["input", "number", "organisation", "found", "counterfeit",
    "date_checked", "status_on_date", "status_on_date_zh", "level_on_date", "level_on_date_zh", "since_on_date",
    "today", "status_today", "status_today_zh", "level_today", "level_today_zh", "since_today",
    "url", "as_of", "checkpoint_tree_size", "checkpoint_root_hash", "checked_at"];
  const lines = [head];
  for (const r of result.rows) {
    const on = r.on ?? {};
    const now = r.today ?? {};
    lines.push([
      r.typed.join(" | "), r.number ?? "", r.organisation ?? "", r.found ? "yes" : "no",
      r.counterfeit ? `reported ${r.counterfeit.reported}` : "",
      day ?? "", on.status ?? "", on.zh ?? "", on.level ?? "", on.levelZh ?? "", on.since ?? "",
      r.found ? today : "", now.status ?? "", now.zh ?? "", now.level ?? "", now.levelZh ?? "", now.since ?? "",
      r.found ? `${siteUrl}c/${r.number}/` : "",
      checkpoint?.asOf ?? "", checkpoint?.size ?? "", checkpoint?.root ?? "", checkedAt,
    ]);
  }
  return "\ufeff" + lines.map((line) => line.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/** The three fields of the signed checkpoint that a printout names (api/v1/checkpoint.json):
 * the only code that reads that file, so that a change of its format is one change here. */
export function checkpointFields(doc) {
  return { size: doc.tree_size, root: doc.root_hash, asOf: doc.as_of };
}

// --- the page -----------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

const en = (text) => el("span", { lang: "en" }, text);

function statusCell(a) {
  if (!a) return el("td");
  return el("td", {},
    el("strong", { class: `sm-check__status sm-check__status--${a.status}` }, `${a.zh} `, en(a.en)),
    a.level ? el("span", { class: "sm-check__level" }, ` · ${a.levelZh} `, en(a.levelEn)) : null,
    a.since ? el("span", { class: "sm-check__input" }, `${a.since} 起 `, en(`since ${a.since}`)) : null,
  );
}

function stamp(now) {
  const pad = (n) => String(n).padStart(2, "0");
  const offset = -now.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${localDay(now)} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())} ` +
    `UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

// The page's requests, shared by every check on it: the status index (each file read once) and
// the signed checkpoint.
let reader = null;
let point = null;

function pageRoot() {
  return new URL("../../", import.meta.url); // this file is <site>/assets/starmark/check.js
}

// The requests the page's head started before this module arrived (startRequests, run by the
// inline script of generator/check.py), or none: start() makes them.
let early = null;

function statusIndex() {
  return (reader ??= statusReader(new URL("api/v1/status/", pageRoot()), early ?? {}));
}

function checkpoint() {
  if (!point) {
    const response = early?.checkpoint ?? fetch(new URL("api/v1/checkpoint.json", pageRoot()), { cache: "no-cache" });
    if (early) early.checkpoint = null;
    point = Promise.resolve(response)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${r.status} checkpoint.json`))))
      .then(checkpointFields);
    point.catch(() => { point = null; }); // asked again by the next check
  }
  return point;
}

/** Takes over the requests the page's head started, or starts them (the page without its inline
 * script, e.g. a hand-written check page): every check needs the index's meta and the
 * checkpoint, and a shared link (?q=) the index files of its numbers. */
function start(search) {
  const head = globalThis.starmarkCheck;
  early = head && typeof head === "object" && head.meta ? head : startRequests(pageRoot(), search);
  early.meta.catch(() => {});
  checkpoint().catch(() => {});
}

function bind(box) {
  if (box.dataset.starmarkBound) return;
  box.dataset.starmarkBound = "1";
  const form = box.querySelector("form");
  const textarea = form?.querySelector('textarea[name="q"]');
  const dateInput = form?.querySelector('input[name="on"]');
  const out = box.querySelector("[data-check-out]");
  if (!form || !textarea || !dateInput || !out) return;
  const root = pageRoot();
  const fetchJson = statusIndex();
  let seq = 0;

  async function run(text, day) {
    const mine = ++seq;
    out.setAttribute("aria-busy", "true");
    try {
      const meta = await fetchJson("meta.json");
      const numbers = splitList(text, meta.example);
      const url = new URL(window.location.href);
      url.search = "";
      if (day) url.searchParams.set("on", day);
      if (numbers.length) url.searchParams.set("q", numbers.join(","));
      window.history.replaceState(window.history.state, "", url);
      out.replaceChildren();
      if (!numbers.length) return;
      const now = new Date();
      const signed = await checkpoint();
      let today = localDay(now);
      if (signed.asOf && today < signed.asOf) today = signed.asOf; // a clock behind the data
      const result = await checkList(numbers, day, today, fetchJson);
      if (mine !== seq) return;
      render(result, { day, today, point: signed, now, shared: url.href });
    } catch (error) {
      if (mine !== seq) return;
      out.replaceChildren(el("p", { class: "sm-check__error" }, "核查暂时无法完成，请稍后再试。 ", en("The check could not be completed; try again later.")));
      console.error(error);
    } finally {
      if (mine === seq) out.removeAttribute("aria-busy");
    }
  }

  function render(result, { day, today, point, now, shared }) {
    const { meta, rows } = result;
    const checkedAt = stamp(now);
    const found = rows.filter((r) => r.found);
    const missing = rows.filter((r) => !r.found && !r.counterfeit);
    const fakes = rows.filter((r) => r.counterfeit);
    const validOn = day ? found.filter((r) => r.on.status === "valid").length : null;
    const validToday = found.filter((r) => r.today.status === "valid").length;
    const name = meta.registry.name;
    out.append(el("p", { class: "sm-check__print-title" }, `${name} · 证书核查结果 `, en("Certificate check")));
    out.append(el("p", { class: "sm-check__summary", "data-check-summary": "" },
      `共 ${rows.length} 个编号`, result.merged ? `（已合并重复 ${result.merged} 个）` : "", "：",
      day ? `${day} 有效 ${validOn} 个，` : "", `今日（${today}）有效 ${validToday} 个，`,
      `未找到 ${missing.length} 个，假冒 ${fakes.length} 个。 `,
      en(`${rows.length} numbers${result.merged ? ` (${result.merged} repeats merged)` : ""}: ` +
        (day ? `${validOn} valid on ${day}, ` : "") + `${validToday} valid today (${today}), ` +
        `${missing.length} not in the registry, ${fakes.length} reported counterfeit.`)));
    if (result.cut) {
      out.append(el("p", { class: "sm-check__warn" }, `只核查了前 ${meta.max} 个编号，其余 ${result.cut} 个未核查。 `,
        en(`Only the first ${meta.max} numbers were checked; ${result.cut} were not.`)));
    }
    if (fakes.length) {
      out.append(el("p", { class: "sm-check__warn", role: "alert" },
        `⚠ ${fakes.length} 个编号是已举报的假冒证书编号，从未由本机构颁发。 `,
        en(`${fakes.length} number(s) are reported counterfeits, never issued by this body.`), " ",
        el("a", { href: new URL("counterfeits/", root).href }, "假冒举报 ", en("Counterfeits"))));
    }
    const csvName = `check-${day ?? today}.csv`;
    const exportButton = el("button", { type: "button", class: "md-button", "data-check-csv": "" }, "导出 CSV ", en("Export CSV"));
    const printButton = el("button", { type: "button", class: "md-button", "data-check-print": "" }, "打印 ", en("Print"));
    exportButton.addEventListener("click", () => {
      const text = toCsv(result, { day, today, checkpoint: point, checkedAt, siteUrl: meta.registry.site_url });
      const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" })), download: csvName });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    });
    printButton.addEventListener("click", () => window.print());
    out.append(el("p", { class: "sm-check__tools" }, exportButton, printButton));

    const headRow = el("tr", {}, el("th", { scope: "col" }, "#"),
      el("th", { scope: "col" }, "证书编号 ", en("Number")),
      el("th", { scope: "col" }, "企业 ", en("Organisation")),
      day ? el("th", { scope: "col" }, `${day} 状态 `, en(`Status on ${day}`)) : null,
      el("th", { scope: "col" }, `今日 ${today} `, en(`Today ${today}`)));
    const body = el("tbody");
    rows.forEach((r, i) => {
      const shown = r.typed.length > 1 || r.typed[0] !== r.number;
      const typed = shown ? el("span", { class: "sm-check__input" }, "输入 ", en("typed"), `：${r.typed.join("、")}`) : null;
      if (r.found) {
        const link = el("a", { href: new URL(`c/${r.number}/`, root).href, class: "sm-mono" }, r.number);
        body.append(el("tr", { class: "sm-check__row", "data-number": r.number, "data-on": r.on?.status ?? "", "data-today": r.today.status },
          el("td", {}, String(i + 1)), el("td", {}, link, typed), el("td", {}, r.organisation),
          day ? statusCell(r.on) : null, statusCell(r.today)));
      } else if (r.counterfeit) {
        const note = [r.counterfeit.note, r.counterfeit.note_en].filter(Boolean).join(" / ");
        body.append(el("tr", { class: "sm-check__row sm-check__row--counterfeit", "data-number": r.number, "data-counterfeit": "" },
          el("td", {}, String(i + 1)), el("td", {}, el("span", { class: "sm-mono" }, r.number), typed),
          el("td", { colspan: day ? "3" : "2" }, el("span", { class: "sm-check__warn" }, "⚠ 假冒证书编号 ", en("Reported counterfeit")),
            ` — ${r.counterfeit.reported} 举报，从未颁发 `, en(`reported ${r.counterfeit.reported}, never issued`), note ? ` · ${note}` : "")));
      } else {
        body.append(el("tr", { class: "sm-check__row sm-check__row--missing", "data-missing": "" },
          el("td", {}, String(i + 1)), el("td", {}, el("span", { class: "sm-mono" }, r.typed[0])),
          el("td", { colspan: day ? "3" : "2" }, el("strong", {}, "未找到 "), en("not in the registry"))));
      }
    });
    out.append(el("div", { class: "sm-check__table-wrap" }, el("table", { class: "sm-check__table" },
      el("caption", {}, "核查结果 ", en("Results")), el("thead", {}, headRow), body)));
    out.append(el("p", { class: "sm-check__evidence", "data-check-evidence": "" },
      `核查时间 `, en("Checked at"), ` ${checkedAt}`, el("br"),
      `依据的签名检查点 `, en("Signed checkpoint"), `：${meta.registry.site_url} · 证书数 `, en("size"), ` ${point.size} · 根哈希 `,
      en("root hash"), ` ${point.root} · 数据截至 `, en("as of"), ` ${point.asOf}`, el("br"),
      "可用 starmark verify 离线核验该检查点。 ", en("The checkpoint can be verified offline with starmark verify."), el("br"),
      "本次查询 ", en("This query"), `：${shared}`));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const day = dateInput.value;
    run(textarea.value, isDay(day) ? day : "");
  });
  const params = new URLSearchParams(window.location.search);
  const q = params.get("q");
  const on = params.get("on");
  if (on && isDay(on)) dateInput.value = on;
  if (q) {
    textarea.value = q.split(",").join("\n");
    run(q, isDay(on ?? "") ? on : "");
  }
}

if (typeof document !== "undefined") {
  // The page loads this module from its head (async): the requests start before the rest of the
  // page is parsed, and the form is bound as soon as the parser has passed it (Chromium makes the
  // document "interactive" only once the theme's deferred bundle has arrived: too late).
  start(window.location.search);
  const bindAll = () => document.querySelectorAll("[data-starmark-check]").forEach(bind);
  if (document.readyState === "loading") {
    const parsed = () => document.querySelector("[data-starmark-check] [data-check-out]");
    const watch = new MutationObserver(() => { if (parsed()) { watch.disconnect(); bindAll(); } });
    watch.observe(document, { childList: true, subtree: true });
    document.addEventListener("readystatechange", () => { watch.disconnect(); bindAll(); }, { once: true });
  } else {
    bindAll();
  }
  globalThis.document$?.subscribe?.(bindAll);
}
