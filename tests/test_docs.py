"""The hand-written pages: markers expand from registry/, no page types a registry fact, every
status and level is explained, every page is Chinese first with an English summary, and every link
lands on a page or a public URL that exists.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import markdown as md
import pytest
from bs4 import BeautifulSoup

from generator import scheme
from generator.scheme import MarkerError, expand_markers
from generator.settings import Settings, load

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
# The pages this suite is about; docs/marks.md belongs to the mark-usage work and is linked to.
PAGES = ("index", "verify", "standard", "procedure", "statuses", "open-data", "about", "tenders")
LINKED_ELSEWHERE = {"marks.md"}  # docs pages owned by others
GENERATED_PAGES = {"search/index.md", "list/index.md", "counterfeits/index.md",
                   "check/index.md"}  # added by the starmark plugin
EXTENSIONS = ["attr_list", "md_in_html", "tables", "toc", "admonition"]
STATS = {"total": 9, "valid": 5, "suspended": 1, "withdrawn": 1, "cancelled": 1, "expired": 1}
CJK = re.compile(r"[\u4e00-\u9fff]")
MARKER = re.compile(r"<!--\s*starmark:.*?-->", re.DOTALL)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load(REPO)


def raw(page: str) -> str:
    return (DOCS / f"{page}.md").read_text("utf-8")


def body(text: str) -> str:
    """The page without its YAML front matter (mkdocs strips it before markers are expanded)."""
    return re.sub(r"\A---\n.*?\n---\n", "", text, count=1, flags=re.DOTALL)


def expanded(page: str, settings: Settings, stats: dict[str, int] | None = None) -> str:
    return expand_markers(body(raw(page)), settings, stats)


def html(page: str, settings: Settings, stats: dict[str, int] | None = None) -> BeautifulSoup:
    out = md.markdown(expanded(page, settings, stats), extensions=EXTENSIONS)
    return BeautifulSoup(out, "html.parser")


def text_of(markdown: str) -> str:
    """What a reader sees: the Markdown rendered to HTML, as text."""
    return BeautifulSoup(md.markdown(markdown, extensions=EXTENSIONS), "html.parser").get_text()


def registry_copy(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(REPO / "registry", root / "registry")
    return root


# (1) markers render every level and status, from registry/ -----------------------------------


def test_levels_marker_renders_every_level_with_its_score_range(settings: Settings) -> None:
    source = expand_markers("<!-- starmark:levels -->", settings)
    out = text_of(source)
    for level in settings.levels:
        assert level.zh in out and level.en in out
        if level.stars:
            assert "★" * level.stars in out and f'aria-label="{level.stars} 颗星' in source
    ordered = sorted(settings.levels, key=lambda lv: lv.min_score, reverse=True)
    assert f"≥ {ordered[0].min_score}" in out
    for higher, lower in zip(ordered, ordered[1:], strict=False):
        assert f"{lower.min_score} – <{higher.min_score}" in out
    assert f"< {settings.min_score}" in out  # the not-certifiable row


def test_statuses_marker_renders_every_status(settings: Settings) -> None:
    out = expand_markers("<!-- starmark:statuses -->", settings)
    for status in settings.statuses:
        row = next(line for line in out.splitlines() if f"<code>{status.key}</code>" in line)
        assert status.zh in row and status.en in row
        assert ("可以使用" in row) == status.mark_allowed
        assert ("按日期推算" in row) == (status.derived is True)


def test_changing_a_threshold_in_registry_changes_the_rendered_table(tmp_path: Path) -> None:
    root = registry_copy(tmp_path)
    path = root / "registry" / "registry.yaml"
    text = path.read_text("utf-8")
    assert "    min_score: 95\n" in text
    path.write_text(text.replace("    min_score: 95\n", "    min_score: 96.5\n", 1), "utf-8")
    changed = load(root)
    out = text_of(expand_markers("<!-- starmark:levels -->", changed))
    assert "≥ 96.5" in out and "90 – <96.5" in out
    assert "≥ 95" not in out and "<95" not in out


def test_changing_lifecycle_and_body_in_registry_changes_the_pages(tmp_path: Path) -> None:
    root = registry_copy(tmp_path)
    path = root / "registry" / "registry.yaml"
    text = path.read_text("utf-8")
    text = text.replace("validity_years: 3", "validity_years: 4").replace(
        "400-000-0000", "400-123-4567"
    )
    path.write_text(text, "utf-8")
    changed = load(root)
    procedure = expand_markers(body(raw("procedure")), changed)
    assert "**4 年**" in procedure and "valid for 4 years" in procedure
    assert "400-123-4567" in expand_markers(body(raw("about")), changed)


def test_stats_are_rendered_only_when_given(settings: Settings) -> None:
    assert "共收录证书" not in expanded("index", settings)
    assert "starmark:" not in expanded("index", settings)
    soup = html("index", settings, STATS)
    assert "共收录证书 9 张" in soup.get_text()
    rows = {tuple(td.get_text() for td in tr.find_all("td")) for tr in soup.find_all("tr")}
    for status in settings.statuses:
        assert (f"{status.zh} / {status.en}", str(STATS[status.key])) in rows


def test_stats_with_an_unknown_key_are_refused(settings: Settings) -> None:
    with pytest.raises(MarkerError, match="bogus"):
        expand_markers("<!-- starmark:stats -->", settings, {"bogus": 1})


def test_values_from_settings_are_escaped(settings: Settings) -> None:
    hostile = "<script>x</script> | *A* & _B_ [c](d)"
    body_ = dataclasses.replace(settings.body, name=hostile, address=hostile)
    changed = dataclasses.replace(settings, body=body_)
    out = expand_markers("<!-- starmark:body -->\n\n<!-- starmark:body-name -->", changed)
    assert "<script>" not in out and hostile not in out
    table = [line for line in out.splitlines() if line.startswith("| 认证机构")]
    assert table and table[0].count("|") == 3  # the | in the value did not split the cell
    rendered = BeautifulSoup(md.markdown(out, extensions=EXTENSIONS), "html.parser")
    assert rendered.find("script") is None and rendered.find("em") is None
    assert hostile in rendered.get_text()


def test_a_report_url_with_an_unsafe_scheme_is_refused(settings: Settings) -> None:
    body_ = dataclasses.replace(settings.body, report_url="javascript:alert(1)")
    with pytest.raises(MarkerError, match="report_url"):
        expand_markers("<!-- starmark:body -->", dataclasses.replace(settings, body=body_))


def test_every_record_field_has_a_chinese_name(settings: Settings) -> None:
    missing = [path for path, prop, _ in scheme.schema_fields(settings.schema)
               if not scheme.field_zh(path, prop)]
    assert not missing, f"add these to _FIELD_ZH or give them a title in the schema: {missing}"


def test_block_markers_keep_the_indentation_of_their_line(settings: Settings) -> None:
    out = expand_markers('!!! note "x"\n    <!-- starmark:statuses -->\n', settings)
    table = [line for line in out.splitlines() if "|" in line]
    assert table and all(line.startswith("    |") for line in table)


# (2) together the pages mention every status and level; statuses.md explains each -------------


def test_pages_together_mention_every_status_and_level(settings: Settings) -> None:
    everything = "\n".join(expanded(page, settings) for page in PAGES)
    for label in [st.zh for st in settings.statuses] + [lv.zh for lv in settings.levels]:
        assert label in everything


def test_statuses_page_explains_each_status_key(settings: Settings) -> None:
    text = body(raw("statuses"))
    for status in settings.statuses:
        marker = f"<!-- starmark:status {status.key} -->"
        assert marker in text, f"statuses.md has no section for {status.key}"
        section = text.split(marker, 1)[1]
        section = re.split(r"<!-- starmark:status |\n## ", section)[0]
        assert len(CJK.findall(section)) >= 40, f"explain '{status.key}' in statuses.md"
        assert "**认证标志**" in section and ("**能否恢复**" in section or status.key == "valid")
    summary = text.split("## English summary", 1)[1]
    for status in settings.statuses:
        assert status.en in summary


def test_statuses_page_explains_scope_reduction_and_overdue(settings: Settings) -> None:
    soup = html("statuses", settings)
    ids = {tag.get("id") for tag in soup.find_all(["h2", "h3"])}
    assert {"scope-reduction", "surveillance-overdue"} <= ids
    assert {f"status-{st.key}" for st in settings.statuses} <= ids


# (3) no page types a registry fact -----------------------------------------------------------

ZH_NUMERALS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九",
               10: "十", 12: "十二", 24: "二十四", 30: "三十", 36: "三十六", 60: "六十", 90: "九十"}


def _forms(n: int) -> list[str]:
    return [str(n)] + ([ZH_NUMERALS[n]] if n in ZH_NUMERALS else [])


def typed_facts(settings: Settings) -> list[tuple[str, re.Pattern[str]]]:
    """Patterns that would mean a page typed a fact that lives in registry/."""
    facts: list[tuple[str, re.Pattern[str]]] = []
    for score in {lv.min_score for lv in settings.levels} | {settings.max_score}:
        num = re.escape(format(score.normalize(), "f"))
        typed = (rf"(?<![\d.]){num}\s*(分|points?\b)", rf"[≥>≤<]=?\s*{num}(?![\d])",
                 rf"满分\s*{num}", rf"out of {num}\b")
        facts.append((f"score {score}", re.compile("|".join(typed))))
    life = settings.lifecycle
    for n, units in ((life.validity_years, ("年", "years?")),
                     (life.surveillance_months, ("个月", "months?")),
                     (life.max_suspension_months, ("个月", "months?")),
                     (life.surveillance_grace_days, ("天", "日", "days?"))):
        for form in _forms(n):
            for unit in units:
                pattern = re.compile(rf"(?<![\d]){form}\s*{unit}(?![A-Za-z])")
                facts.append((f"{form} {unit}", pattern))
    if life.surveillance_months == 12:
        facts.append(("once a year", re.compile(r"每年|一年一次|once a year|annual")))
    b = settings.body
    for value in (b.name, b.name_en, b.short, b.accreditation, b.phone, b.email, b.address,
                  settings.site_url, settings.site_url.split("//", 1)[1].rstrip("/"),
                  settings.number.example):
        if value:
            facts.append((value, re.compile(re.escape(value))))
    return facts


@pytest.mark.parametrize("page", PAGES)
def test_no_page_types_a_registry_fact(page: str, settings: Settings) -> None:
    text = MARKER.sub(" ", raw(page))
    found = [name for name, pattern in typed_facts(settings) if pattern.search(text)]
    assert not found, f"docs/{page}.md types {found}: use a <!-- starmark:... --> marker"


def test_the_typed_fact_check_catches_typed_thresholds(settings: Settings) -> None:
    top = max(lv.min_score for lv in settings.levels)
    facts = typed_facts(settings)
    for sample in (f"达到 {top} 分", f"{top}分以上", f"at least {top} points", f"≥ {top}",
                   f"有效期 {settings.lifecycle.validity_years} 年", settings.site_url):
        assert any(p.search(sample) for _, p in facts), sample


# (4) every page is Chinese first, with an English summary ------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_is_chinese_first_with_an_english_summary(page: str, settings: Settings) -> None:
    text = body(raw(page))
    h1 = re.search(r"^# (.+)$", text, re.MULTILINE)
    assert h1 and CJK.search(h1.group(1)), "the page title is Chinese"
    chinese, _, summary = text.partition("\n## English summary\n")
    assert summary, f"docs/{page}.md needs a '## English summary' section"
    assert "\n## " not in summary, "English summary is the last section"
    assert len(CJK.findall(chinese)) >= 300
    words = re.findall(r"[A-Za-z]{2,}", MARKER.sub(" ", summary))
    assert len(words) >= 80, f"the English summary of {page} is too short"


def test_home_page_has_search_form_and_sample_notice(settings: Settings) -> None:
    soup = html("index", settings)
    form = soup.find("form", attrs={"role": "search"})
    assert form and form["action"] == "search/" and form["method"] == "get"
    field = form.find("input", attrs={"name": "q"})
    assert field and field["type"] == "search"
    assert soup.find("label", attrs={"for": field["id"]})
    assert settings.number.example in field["placeholder"]
    notice = soup.find(class_="admonition")
    assert notice and "示例数据" in notice.get_text()


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_without_leftover_markers(page: str, settings: Settings) -> None:
    out = str(html(page, settings, STATS))
    assert "starmark:" not in out
    assert "&amp;#" not in out, "a value was escaped twice"


# links --------------------------------------------------------------------------------------

PUBLIC_PATHS = re.compile(
    r"^/(search/|list/|counterfeits/|feed\.xml|api/v1/(certificates\.json|certificates\.csv|record\.schema\.json"
    r"|checkpoint\.(json|txt|sig)"
    r"|certificates/[A-Za-z0-9-]+\.json)|c/[A-Za-z0-9-]+/(feed\.xml)?)$"
)


def page_url(page: str) -> str:
    """The page's URL with use_directory_urls: docs/x.md is served at /x/."""
    return "/" if page == "index" else f"/{page}/"


@pytest.mark.parametrize("page", PAGES)
def test_links_land_on_pages_or_public_urls(page: str, settings: Settings) -> None:
    soup = html(page, settings)
    targets = [str(a.get("href", "")) for a in soup.find_all("a")]
    targets += [str(f.get("action", "")) for f in soup.find_all("form")]
    for target in targets:
        parts = urlsplit(target)
        if parts.scheme in ("http", "https", "mailto", "tel") or target.startswith("#"):
            continue
        path = parts.path
        if path.endswith(".md"):
            ok = (DOCS / path).is_file() or path in LINKED_ELSEWHERE | GENERATED_PAGES
            assert ok, f"{page}.md links to missing page {path}"
            anchor = parts.fragment
            if anchor and (DOCS / path).is_file():
                ids = {t.get("id") for t in html(path.removesuffix(".md"), settings).find_all(True)}
                assert anchor in ids, f"{page}.md links to missing anchor {path}#{anchor}"
        else:
            resolved = urlsplit(urljoin("https://x" + page_url(page), target)).path
            assert PUBLIC_PATHS.match(resolved), f"{page}.md: {target} resolves to {resolved}"


def test_open_data_page_documents_the_published_json() -> None:
    """The derived fields named in open-data.md exist in what the data renderer writes."""
    import datetime as dt

    from generator import data
    from generator.load import load_registry

    registry = load_registry(REPO, dt.date(2026, 11, 27))  # a fixed day, never the clock
    cert = registry.certificates[0]
    entry = data.certificate_json(cert, registry)
    everything = data.registry_json(registry, [entry])
    text = raw("open-data")
    for key in ("schema_version", "as_of", "registry", "count", "certificates"):
        assert f"`{key}`" in text and key in everything
    for part in ("record", "derived", "links"):
        assert f"`{part}`" in text and part in entry
    for name in re.findall(r"`derived\.([a-z_]+)`", text):
        assert name in entry["derived"], f"open-data.md names derived.{name}: not published"


# (5) unknown and misplaced markers ------------------------------------------------------------


def test_unknown_marker_is_an_error_naming_it(settings: Settings) -> None:
    with pytest.raises(MarkerError, match=r"line 3: .*unknown marker 'thresholds'"):
        expand_markers("a\n\n<!-- starmark:thresholds -->\n", settings)


def test_bad_marker_arguments_are_errors(settings: Settings) -> None:
    with pytest.raises(MarkerError, match="status key"):
        expand_markers("<!-- starmark:status revoked -->", settings)
    with pytest.raises(MarkerError, match="needs an argument"):
        expand_markers("<!-- starmark:status -->", settings)
    with pytest.raises(MarkerError, match="takes no argument"):
        expand_markers("<!-- starmark:site-url big -->", settings)
    with pytest.raises(MarkerError, match="malformed"):
        expand_markers("<!-- starmark:Levels! -->", settings)


def test_block_marker_inside_a_sentence_is_an_error(settings: Settings) -> None:
    with pytest.raises(MarkerError, match="line of its own"):
        expand_markers("星级见 <!-- starmark:levels --> 下表", settings)


def test_inline_markers_render_settings_values(settings: Settings) -> None:
    out = expand_markers(
        "<!-- starmark:site-url --> <!-- starmark:validity-years --> <!-- starmark:pass-mark -->",
        settings,
    )
    assert f"<code>{settings.site_url}</code>" in out
    assert f" {settings.lifecycle.validity_years} " in out
    assert out.endswith(format(Decimal(settings.min_score).normalize(), "f"))


def test_every_marker_has_help() -> None:
    assert all(scheme.known_markers().values())
