// A certificate's periods, looked up by day. The periods are derived by the build
// (generator/periods.py, from the same state machine that validates records) and published on the
// certificate page (the list in .sm-periods), in the record's JSON and in the check page's status
// index; this file never applies the scheme's rules, it only finds the period that holds a day.
// periodOn is pure and run under Node by the tests (tests/js/periods_cli.mjs).

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether text is a day written YYYY-MM-DD that exists in the calendar. */
export function isDay(text) {
  if (!DAY.test(text ?? "")) return false;
  const [y, m, d] = text.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** The index of the period holding `day` in `periods`: [[from, status, level], …] in order, the
 * first `from` null (from the beginning), each running to the day before the next one's `from`. */
export function periodOn(periods, day) {
  let found = 0;
  for (let i = 0; i < periods.length; i++) {
    const from = periods[i][0];
    if (from === null || from <= day) found = i; // ISO days compare as text
    else break;
  }
  return found;
}

/** The viewer's calendar day, YYYY-MM-DD (their device's clock and time zone). */
export function localDay(now = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

// --- the certificate page: "Valid on a given date?" ---------------------------------------------

function bind(box) {
  if (box.dataset.smBound) return;
  box.dataset.smBound = "1";
  const items = [...box.querySelectorAll("[data-period]")];
  const ask = box.querySelector("[data-sm-periods-ask]");
  const input = ask?.querySelector('input[type="date"]');
  const out = box.querySelector("[data-sm-periods-answer]");
  if (!items.length || !ask || !input || !out) return;
  const periods = items.map((li) => [li.dataset.from || null, li.dataset.status, li.dataset.level || null]);
  const asOf = box.dataset.asOf || "";

  const show = () => {
    const day = input.value;
    items.forEach((li) => li.removeAttribute("aria-current"));
    out.replaceChildren();
    delete out.dataset.status;
    delete out.dataset.level;
    if (!isDay(day)) return;
    const i = periodOn(periods, day);
    const li = items[i];
    li.setAttribute("aria-current", "true");
    out.dataset.status = periods[i][1];
    out.dataset.level = periods[i][2] ?? "";
    const line = document.createElement("p");
    line.className = "sm-periods__verdict";
    const when = document.createElement("strong");
    when.textContent = `${day}：`;
    line.append(when, ...[...li.querySelector(".sm-period__what").childNodes].map((n) => n.cloneNode(true)));
    const why = li.querySelector(".sm-period__why");
    out.append(line);
    const range = document.createElement("p");
    range.className = "sm-periods__range";
    range.append(...[...li.querySelector(".sm-period__range").childNodes].map((n) => n.cloneNode(true)));
    if (why) range.append(" · ", ...[...why.childNodes].map((n) => n.cloneNode(true)));
    out.append(range);
    if (asOf && day > asOf) {
      const note = document.createElement("p");
      note.className = "sm-periods__note";
      note.append(`本页数据截至 ${asOf}，此后记录的变化未包含在内。 `);
      const en = document.createElement("span");
      en.lang = "en";
      en.textContent = `The data is as of ${asOf}: changes recorded later are not included.`;
      note.append(en);
      out.append(note);
    }
  };
  delete ask.dataset.pending;
  if (!input.value) input.value = localDay();
  // Today's period is marked in the list; the answer box fills when a day is picked (a change
  // the visitor asked for, so nothing on screen moves by itself).
  if (isDay(input.value)) items[periodOn(periods, input.value)].setAttribute("aria-current", "true");
  input.addEventListener("input", show);
  input.addEventListener("change", show);
}

if (typeof document !== "undefined") {
  document.querySelectorAll("[data-sm-periods]").forEach(bind);
}
