/* starmark: the star-mark downloads that are made in the browser.
 *
 * A registry of 10,000 certificates fits a free static host only if most artwork is not stored
 * once per certificate (generator/marks/assembly.py). The certificate page's links marked
 * data-sm-assemble (mark-mono.svg, mark-reverse.svg, mark-print.png, display.pdf, marks.zip)
 * are made here, on click, by following the recipe in the certificate's parts.bin: shared parts
 * from assets/marks/, ranges of the certificate's other files, its own bytes, and the as-of date
 * for the zip's entries. The result is byte for byte the file the Python renderer makes (the
 * build checks every certificate; tests/browser checks this script). Nothing is fetched until
 * a download is asked for. An address /c/<NUMBER>/<file> opened directly reaches the not-found
 * page, which sends it here as #download=<file>. ES5 syntax, fetch and Blob.
 */
(function () {
  var list = document.querySelector('[data-sm-parts]');
  if (!list) return;
  var script = document.currentScript;
  var partsDir = new URL('../marks/', script ? script.src : location.href).href;
  var asOf = list.getAttribute('data-as-of') || '';
  var recipe = null;
  var made = {};

  function bytes(url) {
    return fetch(url).then(function (response) {
      if (!response.ok) throw new Error(url + ': ' + response.status);
      return response.arrayBuffer();
    }).then(function (buffer) { return new Uint8Array(buffer); });
  }

  function load() {
    if (!recipe) {
      recipe = bytes(new URL(list.getAttribute('data-sm-parts'), location.href).href)
        .then(function (data) {
          var magic = String.fromCharCode(data[0], data[1], data[2], data[3]);
          if (magic !== 'SMP1') throw new Error('parts.bin: not a parts file');
          var length = new DataView(data.buffer).getUint32(4);
          var header = JSON.parse(new TextDecoder().decode(data.subarray(8, 8 + length)));
          header.own = data.subarray(8 + length);
          return header;
        });
    }
    return recipe;
  }

  /* DOS time and date of midnight on the as-of day, as a zip entry holds them. */
  function dosDate(iso) {
    var parts = iso.split('-');
    var value = ((+parts[0] - 1980) << 9) | (+parts[1] << 5) | +parts[2];
    return new Uint8Array([0, 0, value & 255, value >> 8]);
  }

  /* The bytes of `name`: a file of this folder, or made from its recipe (and the files before). */
  function file(header, name) {
    if (!made[name]) {
      var segments = header.files[name];
      if (!segments) {
        made[name] = bytes(new URL(name, location.href).href);
      } else {
        made[name] = Promise.all(segments.map(function (s) {
          if (s[0] === 'o') return header.own.subarray(s[1], s[2]);
          if (s[0] === 'p') return bytes(partsDir + s[1] + '.bin');
          if (s[0] === 'f') return file(header, s[1]).then(function (d) { return d.subarray(s[2], s[3]); });
          return dosDate(asOf);
        })).then(function (pieces) {
          var total = 0, at = 0, i;
          for (i = 0; i < pieces.length; i++) total += pieces[i].length;
          var out = new Uint8Array(total);
          for (i = 0; i < pieces.length; i++) { out.set(pieces[i], at); at += pieces[i].length; }
          return out;
        });
      }
    }
    return made[name];
  }

  function save(name, data, type) {
    var url = URL.createObjectURL(new Blob([data], { type: type }));
    var link = document.createElement('a');
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  function download(name, link) {
    if (link) link.setAttribute('aria-busy', 'true');
    return load().then(function (header) {
      if (!header.files[name]) throw new Error(name + ': no recipe');
      return file(header, name).then(function (data) { save(name, data, header.type[name]); });
    }).catch(function (error) {
      list.setAttribute('data-sm-error', String(error && error.message || error));
    }).then(function () {
      if (link) link.removeAttribute('aria-busy');
    });
  }

  list.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-sm-assemble]');
    if (!link) return;
    event.preventDefault();
    download(link.getAttribute('href'), link);
  });

  /* The bytes of an assembled file, for tests and tools: window.starmarkArtwork('display.pdf'). */
  window.starmarkArtwork = function (name) {
    return load().then(function (header) { return file(header, name); });
  };

  var asked = /^#download=([\w.-]+)$/.exec(location.hash);
  if (asked) download(asked[1], list.querySelector('a[href="' + asked[1] + '"]'));
})();
