/* starmark: re-judge a certificate page's build-time verdict with the viewer's clock.
 *
 * A static page can outlive its certificate: it was built on data-as-of and may be read months
 * later. This script compares the dates on .sm-cert with today's date on the viewer's device and,
 * when the page's verdict no longer holds, says so in the banner. ES5, no modules, no framework,
 * so that it runs on old phones; without it the page still shows the build-time verdict and dates.
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
    asOf: get('as-of'), staleDays: get('stale-days'),
    expiredZh: get('label-expired-zh') || '已过期',
    expiredEn: get('label-expired-en') || 'Expired'
  };
}

/* Apply the verdict on `now` to the certificate page in `doc`; returns the verdict or null. */
function starmarkApply(doc, now) {
  var el = doc.querySelector('.sm-cert');
  if (!el) return null;
  var attrs = starmarkReadAttrs(el);
  var r = starmarkVerdict(attrs, now);
  var lines = [];
  function hide(selector) {
    var found = el.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) found[i].style.display = 'none';
  }
  function setText(selector, text) {
    var node = el.querySelector(selector);
    if (node) node.textContent = text;
  }
  if (r.changed && r.verdict === 'expired') {
    var banner = el.querySelector('.sm-verdict');
    if (banner) banner.className = banner.className.replace(/\bsm-verdict--[a-z]+/, 'sm-verdict--expired');
    setText('.sm-verdict__zh', attrs.expiredZh);
    setText('.sm-verdict__word [lang="en"]', attrs.expiredEn);
    hide('.sm-verdict__icon, .sm-verdict__line, .sm-verdict__reason, .sm-downloads, .sm-mark-preview');
    lines.push([
      '有效期已于 ' + attrs.expires + ' 届满（按本设备的日期），证书和认证标志不得再使用。如已再认证，请以认证机构的最新信息为准。',
      'The validity ended on ' + attrs.expires + " (by this device's date): the certificate and the mark may no longer be used. If it was renewed, the certification body's current record prevails."
    ]);
  }
  if (r.overdue) {
    lines.push([
      '监督审核已逾期，请向认证机构核实',
      'Surveillance overdue — check with the certification body'
    ]);
  }
  if (r.stale) {
    lines.push([
      '数据截至 ' + r.asOf + '（' + r.age + ' 天前），此后的变化未包含在本页中。',
      'Data as of ' + r.asOf + ' (' + r.age + ' days ago): later changes are not shown on this page.'
    ]);
    var asof = el.querySelector('.sm-asof');
    if (asof) asof.className += ' sm-asof--stale';
  }
  var live = el.querySelector('[data-sm-live]');
  if (live && lines.length) {
    while (live.firstChild) live.removeChild(live.firstChild);
    for (var i = 0; i < lines.length; i++) {
      if (i) live.appendChild(doc.createElement('br'));
      live.appendChild(doc.createTextNode(lines[i][0] + ' '));
      var en = doc.createElement('span');
      en.setAttribute('lang', 'en');
      en.appendChild(doc.createTextNode(lines[i][1]));
      live.appendChild(en);
    }
    live.removeAttribute('hidden');
  }
  el.setAttribute('data-live-verdict', r.verdict);
  return r;
}

if (typeof module !== 'undefined' && module.exports) {
  module.exports = { starmarkVerdict: starmarkVerdict, starmarkApply: starmarkApply, starmarkDay: starmarkDay };
} else if (typeof document !== 'undefined' && document.querySelector) {
  try { starmarkApply(document, new Date()); } catch (e) { /* the build-time verdict stays */ }
}
