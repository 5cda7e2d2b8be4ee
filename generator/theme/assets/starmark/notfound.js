/* starmark: on the not-found page, say what is wrong with a certificate number in the address.
 *
 * The page (generator/notfound.py) carries the number pattern and the reported counterfeit
 * numbers. For /c/<NUMBER>/... this script shows whether the number is a reported counterfeit,
 * malformed, or well-formed; only then does it ask for that one record's JSON to tell "never
 * issued" from "issued" (the page may have been a file that no longer exists). ES5, no modules.
 */

/* The certificate number in `path` below the site's base path, or null. */
function starmarkNumberFromPath(path, base) {
  if (path.indexOf(base) !== 0) return null;
  var m = /^c\/([^\/?#]+)/.exec(path.slice(base.length));
  if (!m) return null;
  try { return decodeURIComponent(m[1]); } catch (e) { return m[1]; }
}

/* What the page can tell without the network: {number, counterfeit, wellFormed (true/false/null)}.
 * A number typed in lower case is read in upper case when only that form is well-formed. */
function starmarkClassify(number, patternSource, counterfeits) {
  var re = patternSource ? new RegExp(patternSource) : null;
  if (re && !re.test(number) && re.test(number.toUpperCase())) number = number.toUpperCase();
  var counterfeit = false;
  for (var i = 0; i < counterfeits.length; i++) {
    if (counterfeits[i] === number) counterfeit = true;
  }
  return { number: number, counterfeit: counterfeit, wellFormed: re ? re.test(number) : null };
}

function starmarkNotFound(doc, loc) {
  var root = doc.querySelector('[data-sm-notfound]');
  if (!root) return;
  var base = root.getAttribute('data-base') || '/';
  // Artwork that the certificate page makes in the browser (generator/marks/assembly.py): the
  // page downloads it (marks.js), or says why the certificate has no artwork now.
  var art = /^c\/([^\/?#]+)\/([\w-]+\.(?:svg|png|pdf|zip))$/.exec(loc.pathname.slice(base.length));
  if (art && loc.pathname.indexOf(base) === 0) {
    loc.replace(base + 'c/' + art[1] + '/#download=' + art[2]);
    return;
  }
  var raw = starmarkNumberFromPath(loc.pathname, base);
  if (raw === null) return;
  var list = [];
  try { list = JSON.parse(root.getAttribute('data-counterfeits') || '[]'); } catch (e) { list = []; }
  var c = starmarkClassify(raw, root.getAttribute('data-pattern'), list);

  var i, spans = root.querySelectorAll('[data-sm-number]');
  for (i = 0; i < spans.length; i++) spans[i].textContent = c.number;
  function show(name, on) {
    var el = root.querySelector('[data-sm-nf="' + name + '"]');
    if (!el) return;
    if (on === false) el.setAttribute('hidden', ''); else el.removeAttribute('hidden');
  }
  if (c.counterfeit) show('counterfeit');
  if (c.wellFormed === false) { show('malformed'); return; }

  var page = base + 'c/' + encodeURIComponent(c.number) + '/';
  var links = root.querySelectorAll('[data-sm-link]');
  for (i = 0; i < links.length; i++) links[i].setAttribute('href', page);
  var xhr = new XMLHttpRequest();
  show('checking');
  function done(name) { show('checking', false); show(name); }
  xhr.onreadystatechange = function () {
    if (xhr.readyState !== 4) return;
    if (xhr.status === 404 || xhr.status === 410) { done('unissued'); return; }
    var found = false;
    if (xhr.status === 200) {
      try { found = JSON.parse(xhr.responseText).record.number === c.number; } catch (e) { found = false; }
    }
    done(found ? 'issued' : 'unknown');
  };
  try {
    xhr.open('GET', base + 'api/v1/certificates/' + encodeURIComponent(c.number) + '.json', true);
    xhr.send();
  } catch (e) {
    done('unknown');
  }
}

if (typeof module !== 'undefined' && module.exports) {
  module.exports = { starmarkNumberFromPath: starmarkNumberFromPath, starmarkClassify: starmarkClassify };
} else if (typeof document !== 'undefined' && document.querySelector) {
  try { starmarkNotFound(document, window.location); } catch (e) { /* the static text stays */ }
}
