// The certificate page's client-side verdict (generator/theme/assets/starmark/freshness.js) and the
// not-found page's number check (notfound.js), under Node with fixed clocks.
//
//   node --test tests/js/freshness.test.mjs
//
// Both scripts are classic scripts (no modules, ES5) and are loaded here the way a browser runs
// them, in a context of their own; they export their functions through `module.exports`.
// tests/test_freshness.py runs this file, and sets STARMARK_PAGE_TREES to certificate pages
// rendered from the real template so that the DOM tests run against what the site serves.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import vm from "node:vm";

const ASSETS = new URL("../../generator/theme/assets/starmark/", import.meta.url);

function load(name) {
  const source = readFileSync(new URL(name, ASSETS), "utf8");
  const sandbox = { module: { exports: {} } };
  vm.runInNewContext(source, sandbox, { filename: name });
  return sandbox.module.exports;
}

const { starmarkVerdict, starmarkApply } = load("freshness.js");
const { starmarkNumberFromPath, starmarkClassify } = load("notfound.js");

// A valid certificate built on 2026-11-27: expires 2028-03-31, surveillance due 2027-03-18,
// 30 days' grace, "stale" after 7 days.
const VALID = {
  verdict: "valid", status: "valid", expires: "2028-03-31", nextSurveillance: "2027-03-18",
  graceDays: "30", asOf: "2026-11-27", staleDays: "7",
};
const SUSPENDED = { ...VALID, verdict: "suspended", status: "suspended", nextSurveillance: "" };

test("before expiry and within a week of the build: unchanged", () => {
  const r = starmarkVerdict(VALID, "2026-12-01");
  assert.equal(r.verdict, "valid");
  assert.equal(r.changed, false);
  assert.equal(r.overdue, false);
  assert.equal(r.stale, false);
});

test("the last day of validity is still valid; the day after is expired", () => {
  assert.equal(starmarkVerdict(VALID, "2028-03-31").verdict, "valid");
  const r = starmarkVerdict(VALID, "2028-04-01");
  assert.equal(r.verdict, "expired");
  assert.equal(r.changed, true);
  assert.equal(r.overdue, false, "an expired certificate has no surveillance to be late for");
});

test("surveillance is overdue only after the due date plus the grace days", () => {
  assert.equal(starmarkVerdict(VALID, "2027-04-17").overdue, false); // due + 30 days
  const r = starmarkVerdict(VALID, "2027-04-18");
  assert.equal(r.overdue, true);
  assert.equal(r.verdict, "valid");
  assert.equal(starmarkVerdict({ ...VALID, nextSurveillance: "" }, "2027-12-01").overdue, false);
});

test("a page not rebuilt for more than stale-days days is stale, and says how old", () => {
  assert.equal(starmarkVerdict(VALID, "2026-12-04").stale, false); // 7 days
  const r = starmarkVerdict(VALID, "2026-12-05");
  assert.equal(r.stale, true);
  assert.equal(r.age, 8);
  assert.equal(r.asOf, "2026-11-27");
});

test("suspended stays suspended: never valid again, never 'overdue'", () => {
  const r = starmarkVerdict(SUSPENDED, "2027-06-01");
  assert.equal(r.verdict, "suspended");
  assert.equal(r.changed, false);
  assert.equal(r.overdue, false);
  assert.equal(r.stale, true);
  // Past expiry the build would say expired too (generator/model.py standing()).
  assert.equal(starmarkVerdict(SUSPENDED, "2028-04-01").verdict, "expired");
});

test("withdrawn, cancelled and expired never change", () => {
  for (const verdict of ["withdrawn", "cancelled", "expired"]) {
    const r = starmarkVerdict({ ...VALID, verdict, nextSurveillance: "" }, "2030-01-01");
    assert.equal(r.verdict, verdict);
    assert.equal(r.changed, false);
    assert.equal(r.overdue, false);
  }
});

test("a clock behind the build date changes nothing", () => {
  const r = starmarkVerdict({ ...VALID, expires: "2026-11-27" }, "2020-01-01");
  assert.equal(r.verdict, "valid");
  assert.equal(r.stale, false);
  assert.equal(r.age, 0);
});

test("a Date is read as the viewer's local calendar day", () => {
  assert.equal(starmarkVerdict(VALID, new Date(2028, 3, 1, 0, 5)).verdict, "expired");
  assert.equal(starmarkVerdict(VALID, new Date(2028, 2, 31, 23, 55)).verdict, "valid");
});

// --- the page ----------------------------------------------------------------------------------

// A small DOM: enough of Element for freshness.js, with selectors made of tags, .classes,
// [attr] and [attr="value"], descendant combinators and comma lists.
class Node_ {
  constructor(tag, attrs = {}, children = []) {
    this.tagName = tag;
    this.attrs = { ...attrs };
    this.style = {};
    this.childNodes = [];
    this.parent = null;
    for (const child of children) this.appendChild(typeof child === "string" ? new Text_(child) : child);
  }
  get className() { return this.attrs.class || ""; }
  set className(value) { this.attrs.class = value; }
  getAttribute(name) { return name in this.attrs ? this.attrs[name] : null; }
  setAttribute(name, value) { this.attrs[name] = String(value); }
  removeAttribute(name) { delete this.attrs[name]; }
  hasAttribute(name) { return name in this.attrs; }
  get firstChild() { return this.childNodes[0] || null; }
  appendChild(node) { node.parent = this; this.childNodes.push(node); return node; }
  removeChild(node) { this.childNodes = this.childNodes.filter((n) => n !== node); return node; }
  get textContent() { return this.childNodes.map((n) => n.textContent).join(""); }
  set textContent(text) { this.childNodes = []; this.appendChild(new Text_(text)); }
  *descendants() {
    for (const child of this.childNodes) {
      if (child instanceof Node_) { yield child; yield* child.descendants(); }
    }
  }
  querySelectorAll(selectors) {
    const groups = selectors.split(",").map((s) => s.trim().split(/\s+/));
    return [...this.descendants()].filter((el) => groups.some((parts) => matchesChain(el, parts, this)));
  }
  querySelector(selectors) { return this.querySelectorAll(selectors)[0] || null; }
}
class Text_ {
  constructor(text) { this.data = text; }
  get textContent() { return this.data; }
}

function matchesSimple(el, simple) {
  const re = /([a-z0-9]+)|\.([\w-]+)|\[([\w-]+)(?:="([^"]*)")?\]/gy;
  let m;
  let pos = 0;
  while (pos < simple.length) {
    re.lastIndex = pos;
    m = re.exec(simple);
    if (!m) throw new Error(`unsupported selector ${simple}`);
    pos = re.lastIndex;
    if (m[1] && el.tagName !== m[1]) return false;
    if (m[2] && !el.className.split(/\s+/).includes(m[2])) return false;
    if (m[3] && (!el.hasAttribute(m[3]) || (m[4] !== undefined && el.getAttribute(m[3]) !== m[4]))) return false;
  }
  return true;
}

function matchesChain(el, parts, scope) {
  if (!matchesSimple(el, parts[parts.length - 1])) return false;
  let rest = parts.length - 2;
  for (let node = el.parent; node && rest >= 0; node = node.parent) {
    if (node === scope.parent) break;
    if (matchesSimple(node, parts[rest])) rest -= 1;
  }
  return rest < 0;
}

function fromTree(tree) {
  if (typeof tree === "string") return tree;
  return new Node_(tree.tag, tree.attrs, tree.children.map(fromTree));
}

function documentFor(cert) {
  const doc = new Node_("html", {}, [cert]);
  doc.createElement = (tag) => new Node_(tag);
  doc.createTextNode = (text) => new Text_(text);
  return doc;
}

// The parts of generator/templates/certificate.html that freshness.js touches.
function inlinePage(attrs) {
  const data = Object.fromEntries(Object.entries({
    verdict: attrs.verdict, status: attrs.status, expires: attrs.expires,
    "next-surveillance": attrs.nextSurveillance, "grace-days": attrs.graceDays,
    "as-of": attrs.asOf, "stale-days": attrs.staleDays,
  }).map(([k, v]) => [`data-${k}`, v]));
  return new Node_("div", { class: "sm-cert", ...data }, [
    new Node_("div", { class: "sm-stack" }, [
      new Node_("section", { class: `sm-verdict sm-verdict--${attrs.verdict}`, "data-sm-hide": "expired" },
        ["有效 Valid"]),
      new Node_("section", { class: "sm-verdict sm-verdict--expired sm-keep", "data-sm-show": "expired",
        hidden: "" }, [`已过期 Expired 按本设备的日期已届满`]),
    ]),
    new Node_("p", { class: "sm-fresh sm-stack" }, [
      new Node_("span", { class: "sm-keep", "data-sm-hide": "stale" }, ["数据截至 2026-11-27"]),
      new Node_("span", { class: "sm-keep", "data-sm-show": "stale", hidden: "" },
        ["数据截至 2026-11-27，已超过 7 天未更新 Data as of 2026-11-27, over 7 days old"]),
    ]),
    new Node_("span", { class: "sm-stack" }, [
      new Node_("strong", { class: "sm-warn sm-keep", "data-sm-show": "overdue", hidden: "" },
        ["已逾期 Overdue"]),
    ]),
    new Node_("ul", { class: "sm-downloads", "data-sm-hide": "expired" }, [new Node_("li", {}, ["mark.svg"])]),
  ]);
}

const TREES = process.env.STARMARK_PAGE_TREES
  ? JSON.parse(readFileSync(process.env.STARMARK_PAGE_TREES, "utf8"))
  : null;

function page(kind) {
  if (TREES) return fromTree(TREES[kind]);
  return inlinePage(kind === "valid" ? VALID : SUSPENDED);
}

const shown = (cert, name) => cert.querySelectorAll(`[data-sm-show="${name}"]`);
const kept = (cert, name) => cert.querySelectorAll(`[data-sm-hide="${name}"]`);
const visible = (el) => !el.hasAttribute("hidden");

test("on the page: unchanged before expiry, every alternative stays hidden", () => {
  const cert = page("valid");
  const r = starmarkApply(documentFor(cert), cert.getAttribute("data-as-of"));
  assert.equal(r.changed, false);
  for (const name of ["expired", "overdue", "stale"]) {
    assert.ok(shown(cert, name).length > 0, `the page has no ${name} text`);
    assert.ok([...shown(cert, name)].every((el) => !visible(el)), name);
    assert.ok([...kept(cert, name)].every(visible), name);
  }
  assert.equal(cert.getAttribute("data-live-verdict"), "valid");
});

test("on the page: past expiry the expired banner replaces the verdict and the marks go", () => {
  const cert = page("valid");
  const r = starmarkApply(documentFor(cert), "2040-01-01");
  assert.equal(r.verdict, "expired");
  const banners = cert.querySelectorAll(".sm-verdict");
  const on = banners.filter(visible);
  assert.equal(on.length, 1, "exactly one verdict banner is shown");
  assert.match(on[0].className, /\bsm-verdict--expired\b/);
  assert.match(on[0].textContent, /已过期 Expired/);
  assert.match(on[0].textContent, /按本设备的日期已届满/);
  const hidden = banners.filter((b) => !visible(b));
  assert.ok(hidden.every((b) => /\bsm-keep\b/.test(b.className)), "a hidden banner keeps its space");
  const downloads = cert.querySelector(".sm-downloads");
  if (downloads) assert.equal(visible(downloads), false);
  const levels = cert.querySelectorAll(".sm-level");
  if (TREES) {
    const shownLevels = levels.filter(visible);
    assert.equal(shownLevels.length, 1, "one level row is shown");
    assert.match(shownLevels[0].className, /sm-level--past/, "no stars once expired");
  }
  const fresh = [...shown(cert, "stale")].filter(visible);
  assert.equal(fresh.length, 1);
  assert.match(fresh[0].textContent, /数据截至 2026-11-27/);
  assert.match(fresh[0].textContent, /Data as of 2026-11-27/);
  assert.equal(cert.getAttribute("data-live-verdict"), "expired");
});

test("on the page: overdue surveillance is said where the due date is", () => {
  const cert = page("valid");
  const due = cert.getAttribute("data-next-surveillance");
  assert.ok(due, "a valid certificate page names its next surveillance");
  const late = new Date(Date.parse(due) + 31 * 86400000).toISOString().slice(0, 10);
  const r = starmarkApply(documentFor(cert), late);
  assert.equal(r.overdue, true);
  const warn = [...shown(cert, "overdue")].filter(visible);
  assert.equal(warn.length, 1);
  assert.match(warn[0].textContent, /已逾期/);
  assert.match(warn[0].textContent, /Overdue/);
  assert.equal(cert.querySelectorAll(".sm-verdict").filter(visible)[0].className.includes("sm-verdict--valid"), true);
});

test("on the page: a suspended certificate stays suspended", () => {
  const cert = page("suspended");
  const r = starmarkApply(documentFor(cert), cert.getAttribute("data-as-of"));
  assert.equal(r.verdict, "suspended");
  const on = cert.querySelectorAll(".sm-verdict").filter(visible);
  assert.equal(on.length, 1);
  assert.match(on[0].className, /sm-verdict--suspended/);
});

// --- the not-found page ------------------------------------------------------------------------

const PATTERN = "^(?:^ASC-([0-9]{4})-([0-9]{6})$)$";

test("the number is read from /c/<NUMBER>/ below the site's base path", () => {
  assert.equal(starmarkNumberFromPath("/c/ASC-2025-000123/", "/"), "ASC-2025-000123");
  assert.equal(starmarkNumberFromPath("/c/ASC-2025-000123/mark.png", "/"), "ASC-2025-000123");
  assert.equal(starmarkNumberFromPath("/registry/c/ASC%2D2025/", "/registry/"), "ASC-2025");
  assert.equal(starmarkNumberFromPath("/about/", "/"), null);
  assert.equal(starmarkNumberFromPath("/c/", "/"), null);
  assert.equal(starmarkNumberFromPath("/other/c/X/", "/registry/"), null);
});

test("malformed, well-formed, counterfeit, and lower case read as upper case", () => {
  const cf = ["ASC-2025-009999", "ASC2025-00123"];
  // Objects made inside the script's own context have another Object.prototype: compare data.
  const classify = (n) => ({ ...starmarkClassify(n, PATTERN, cf) });
  assert.deepEqual(classify("ASC-2025-000123"),
    { number: "ASC-2025-000123", counterfeit: false, wellFormed: true });
  assert.deepEqual(classify("ASC-2025-00123"),
    { number: "ASC-2025-00123", counterfeit: false, wellFormed: false });
  assert.deepEqual(classify("ASC-2025-009999"),
    { number: "ASC-2025-009999", counterfeit: true, wellFormed: true });
  assert.deepEqual(classify("ASC2025-00123"),
    { number: "ASC2025-00123", counterfeit: true, wellFormed: false });
  assert.equal(starmarkClassify("asc-2025-000123", PATTERN, cf).number, "ASC-2025-000123");
  assert.equal(starmarkClassify("anything", null, cf).wellFormed, null);
});
