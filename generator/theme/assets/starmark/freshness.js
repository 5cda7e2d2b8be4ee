/* starmark: re-judge a certificate page's build-time verdict with the viewer's clock.
 *
 * A static page can outlive its certificate: it was built on data-as-of and may be read months
 * later. This script compares the dates on .sm-cert with today's date on the viewer's device and,
 * when the page's verdict no longer holds or its data is old, shows what the page says then.
 * ES5, no modules, no framework, so that it runs on old phones; without it the page still shows
 * the build-time verdict and dates.
 * starmarkVerdict is pure and is tested under Node (tests/js/freshness.test.mjs). The file is
 * UTF-8; a classic script without a charset is decoded with the page's encoding, which is UTF-8.
 */

var STARMARK_DAY_MS = 86400000;

/* 'YYYY-MM-DD' -> days since 1970-01-01, or NaN. */
function starmarkDay(iso) {
  var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) / STARMARK_DAY_MS : NaN;
}

/* The calendar day of `now`: a Date (the viewer's local day) or a 'YYYY-MM-DD' string. */
function starmarkToday(now) {
  if (typeof now === 'string') return starmarkDay(now);
  return Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()) / STARMARK_DAY_MS;
}

/* The verdict on `now` for a page whose data attributes are `attrs`:
 * {verdict, status, expires, nextSurveillance, graceDays, asOf, staleDays} (as on .sm-cert).
 * Same rules as generator/model.py standing(): a valid or suspended certificate past its expiry
 * date is expired; surveillance is overdue for a valid certificate once the due date plus the
 * grace days has passed. A clock earlier than the build's as-of day is taken as that day. */
function starmarkVerdict(attrs, now) {
  var asOf = starmarkDay(attrs.asOf);
  var today = starmarkToday(now);
  if (isNaN(today) || (!isNaN(asOf) && today < asOf)) today = asOf;
  var verdict = attrs.verdict;
  if ((verdict === 'valid' || verdict === 'suspended') && today > starmarkDay(attrs.expires)) {
    verdict = 'expired';
  }
  var due = starmarkDay(attrs.nextSurveillance);
  var grace = parseInt(attrs.graceDays, 10) || 0;
  var staleDays = parseInt(attrs.staleDays, 10);
  var age = isNaN(asOf) || isNaN(today) ? 0 : today - asOf;
  return {
    verdict: verdict,
    changed: verdict !== attrs.verdict,
    overdue: verdict === 'valid' && !isNaN(due) && today > due + grace,
    stale: !isNaN(staleDays) && age > staleDays,
    age: age,
    asOf: attrs.asOf || ''
  };
}

function starmarkReadAttrs(el) {
  function get(name) { return el.getAttribute('data-' + name) || ''; }
  return {
    verdict: get('verdict'), status: get('status'), expires: get('expires'),
    nextSurveillance: get('next-surveillance'), graceDays: get('grace-days'),
    asOf: get('as-of'), staleDays: get('stale-days')
  };
}

/* Apply the verdict on `now` to the certificate page in `doc`; returns the verdict or null.
 * The page carries every text this may show, rendered at build time: an element with
 * data-sm-show="C" is shown and one with data-sm-hide="C" hidden when condition C holds
 * (expired, overdue, stale). The two sides of a switch share one grid cell (class sm-keep keeps
 * a hidden one's space), so nothing already on the screen moves. */
function starmarkApply(doc, now) {
  var el = doc.querySelector('.sm-cert');
  if (!el) return null;
  var r = starmarkVerdict(starmarkReadAttrs(el), now);
  var holds = { expired: r.changed && r.verdict === 'expired', overdue: r.overdue, stale: r.stale };
  for (var name in holds) {
    if (!holds[name]) continue;
    var show = el.querySelectorAll('[data-sm-show="' + name + '"]');
    for (var i = 0; i < show.length; i++) show[i].removeAttribute('hidden');
    var hide = el.querySelectorAll('[data-sm-hide="' + name + '"]');
    for (var j = 0; j < hide.length; j++) hide[j].setAttribute('hidden', '');
  }
  el.setAttribute('data-live-verdict', r.verdict);
  return r;
}

if (typeof module !== 'undefined' && module.exports) {
  module.exports = { starmarkVerdict: starmarkVerdict, starmarkApply: starmarkApply, starmarkDay: starmarkDay };
} else if (typeof document !== 'undefined' && document.querySelector) {
  try { starmarkApply(document, new Date()); } catch (e) { /* the build-time verdict stays */ }
}
