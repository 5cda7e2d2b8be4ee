"""Registry-wide settings from ``registry/``: the one place for thresholds, labels and URLs.

Every fact of the scheme that a certification body may set (star-level thresholds, validity,
surveillance interval, number format, its own name and address) is read from here and nowhere
else is it written again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .errors import InputError, Problem
from .source import Document, read_file

REGISTRY_DIR = "registry"
SETTINGS_FILE = "registry.yaml"
INDUSTRIES_FILE = "industries.yaml"
REGIONS_FILE = "regions.yaml"
SCHEMA_FILE = "record.schema.json"
COUNTERFEITS_FILE = "counterfeits.yaml"
PUBLIC_KEY_FILE = "signing-key.pub"


@dataclass(frozen=True)
class Label:
    """A bilingual label."""

    zh: str
    en: str


@dataclass(frozen=True)
class Level:
    """A star level: its key, labels, number of stars and the lowest score that earns it."""

    key: str
    zh: str
    en: str
    stars: int
    min_score: Decimal


@dataclass(frozen=True)
class Status:
    """A public status and whether the star mark may be used under it."""

    key: str
    zh: str
    en: str
    mark_allowed: bool
    derived: bool = False


@dataclass(frozen=True)
class Region:
    """A GB/T 2260 division: its code, its own name and its full name with its parents."""

    code: str
    zh: str
    en: str
    province: str  # code of the province-level division

    @property
    def province_code(self) -> str:
        return self.province


@dataclass(frozen=True)
class Lifecycle:
    """Timing rules of the certificate's life."""

    validity_years: int = 3
    surveillance_months: int = 12
    surveillance_grace_days: int = 30
    surveillance_due_soon_days: int = 60
    max_suspension_months: int = 6
    earliest_year: int = 2000  # no record date before this year (see horizon)
    max_years_ahead: int = 5  # no record date more years than this after the as-of date


@dataclass(frozen=True)
class NumberFormat:
    """The body's certificate number format."""

    pattern: str
    example: str
    template: str

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


@dataclass(frozen=True)
class Body:
    """The certification body that publishes the registry."""

    name: str
    name_en: str
    short: str
    accreditation: str
    phone: str
    email: str
    address: str
    report_url: str
    icp: str = ""  # the website's ICP filing number (ICP备案号), shown in every page's footer


@dataclass(frozen=True)
class Settings:
    """Everything in ``registry/``, typed."""

    root: Path
    body: Body
    site_url: str
    repo_url: str
    repo_branch: str
    number: NumberFormat
    standards: tuple[str, ...]
    levels: tuple[Level, ...]
    max_score: Decimal
    statuses: tuple[Status, ...]
    lifecycle: Lifecycle
    stale_after_days: int
    listing_page_size: int
    industries: dict[str, Label]
    regions: dict[str, Region]
    schema: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def min_score(self) -> Decimal:
        return min(level.min_score for level in self.levels)

    def level_for(self, score: Decimal) -> Level | None:
        """The level a score earns (thresholds inclusive), or None below the pass mark."""
        for level in sorted(self.levels, key=lambda lv: lv.min_score, reverse=True):
            if score >= level.min_score:
                return level
        return None

    def level(self, key: str) -> Level:
        return next(lv for lv in self.levels if lv.key == key)

    def status(self, key: str) -> Status:
        return next(st for st in self.statuses if st.key == key)

    def certificate_url(self, number: str) -> str:
        """The permanent public URL that the QR code encodes."""
        return f"{self.site_url}c/{number}/"

    def region_path(self, code: str) -> list[Region]:
        """A region with its province and city parents, outermost first."""
        found: list[Region] = []
        for parent in (code[:2] + "0000", code[:4] + "00", code):
            region = self.regions.get(parent)
            if region and (not found or found[-1].code != region.code):
                found.append(region)
        return found

    def region_name(self, code: str) -> str:
        return "".join(r.zh for r in self.region_path(code)) or code


class _Reader:
    """Pull typed values out of a settings document, collecting problems with lines."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def get(self, path: tuple[str | int, ...], default: Any = ..., kind: str = "text") -> Any:
        node: Any = self.doc.data
        for part in path:
            in_dict = isinstance(node, dict) and part in node
            in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
            if in_dict or in_list:
                node = node[part]
            else:
                if default is ...:
                    dotted = ".".join(str(p) for p in path)
                    self.problems.append(
                        Problem(
                            self.doc.path, self.doc.line(path[:-1]), f"missing setting '{dotted}'"
                        )
                    )
                    return None
                return self._typed(default, path, kind) if isinstance(default, str) else default
        return self._typed(node, path, kind)

    def _typed(self, value: Any, path: tuple[str | int, ...], kind: str) -> Any:
        where = (self.doc.path, self.doc.line(path))
        try:
            if kind == "int":
                return int(value)
            if kind == "decimal":
                return Decimal(value)
            if kind == "bool":
                if value not in ("true", "false"):
                    raise ValueError
                return value == "true"
        except (TypeError, ValueError, InvalidOperation):
            self.problems.append(
                Problem(*where, f"setting '{path[-1]}' must be a {kind}, got {value!r}")
            )
            return None
        return value


def load(root: Path) -> Settings:
    """Read ``<root>/registry/``; raise :class:`InputError` with every problem found."""
    reg = root / REGISTRY_DIR
    problems: list[Problem] = []
    docs: dict[str, Document] = {}
    for name in (SETTINGS_FILE, INDUSTRIES_FILE, REGIONS_FILE):
        doc, found = read_file(reg / name, f"{REGISTRY_DIR}/{name}")
        problems += found
        if doc is not None:
            docs[name] = doc
    schema: dict[str, Any] = {}
    try:
        schema = json.loads((reg / SCHEMA_FILE).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(
            Problem(f"{REGISTRY_DIR}/{SCHEMA_FILE}", 0, f"cannot read the record schema: {exc}")
        )
    if problems:
        raise InputError(problems)

    r = _Reader(docs[SETTINGS_FILE])
    body = Body(
        name=r.get(("body", "name")),
        name_en=r.get(("body", "name_en"), ""),
        short=r.get(("body", "short"), "") or r.get(("body", "name")),
        accreditation=r.get(("body", "accreditation"), ""),
        phone=r.get(("body", "contact", "phone"), ""),
        email=r.get(("body", "contact", "email"), ""),
        address=r.get(("body", "contact", "address"), ""),
        report_url=r.get(("body", "report_url"), ""),
        icp=r.get(("body", "icp"), "") or "",
    )
    site_url = r.get(("site_url",))
    if site_url and not re.fullmatch(r"https?://[^\s]+/", site_url):
        r.problems.append(
            Problem(
                r.doc.path,
                r.doc.line(("site_url",)),
                "site_url must be an absolute URL ending in '/'",
            )
        )
    number = NumberFormat(
        pattern=r.get(("number", "pattern")),
        example=r.get(("number", "example")),
        template=r.get(("number", "template"), ""),
    )
    if number.pattern:
        try:
            if not number.regex.fullmatch(number.example or ""):
                r.problems.append(
                    Problem(
                        r.doc.path,
                        r.doc.line(("number", "example")),
                        "number.example does not match number.pattern",
                    )
                )
        except re.error as exc:
            r.problems.append(
                Problem(r.doc.path, r.doc.line(("number", "pattern")), f"bad number.pattern: {exc}")
            )
    levels = tuple(
        Level(
            key=r.get(("levels", i, "key")),
            zh=r.get(("levels", i, "zh")),
            en=r.get(("levels", i, "en")),
            stars=r.get(("levels", i, "stars"), kind="int"),
            min_score=r.get(("levels", i, "min_score"), kind="decimal"),
        )
        for i in range(len(r.get(("levels",), []) or []))
    )
    statuses = tuple(
        Status(
            key=r.get(("statuses", i, "key")),
            zh=r.get(("statuses", i, "zh")),
            en=r.get(("statuses", i, "en")),
            mark_allowed=r.get(("statuses", i, "mark_allowed"), kind="bool"),
            derived=r.get(("statuses", i, "derived"), "false", kind="bool"),
        )
        for i in range(len(r.get(("statuses",), []) or []))
    )
    defaults = Lifecycle()
    lifecycle = Lifecycle(
        **{
            name: r.get(("lifecycle", name), str(getattr(defaults, name)), kind="int")
            for name in Lifecycle.__dataclass_fields__
        }
    )
    industries: dict[str, Label] = {}
    regions: dict[str, Region] = {}
    for name in (INDUSTRIES_FILE, REGIONS_FILE):
        doc = docs[name]
        if not isinstance(doc.data, dict):
            r.problems.append(Problem(doc.path, 1, "must be a mapping of key: {zh: ..., en: ...}"))
            continue
        for key, val in doc.data.items():
            if not isinstance(val, dict) or not isinstance(val.get("zh"), str):
                r.problems.append(
                    Problem(doc.path, doc.line((key,)), f"'{key}' needs a mapping with zh and en")
                )
            elif name == INDUSTRIES_FILE:
                industries[key] = Label(zh=val["zh"], en=val.get("en") or key)
            else:
                regions[key] = Region(
                    code=key, zh=val["zh"], en=val.get("en") or "", province=key[:2] + "0000"
                )
    settings = Settings(
        root=root,
        body=body,
        site_url=site_url,
        repo_url=(r.get(("repo_url",), "") or "").rstrip("/"),
        repo_branch=r.get(("repo_branch",), "main"),
        number=number,
        standards=tuple(r.get(("standards",), []) or []),
        levels=levels,
        max_score=r.get(("max_score",), "100", kind="decimal"),
        statuses=statuses,
        lifecycle=lifecycle,
        stale_after_days=r.get(("stale_after_days",), "7", kind="int"),
        listing_page_size=r.get(("listing_page_size",), "50", kind="int"),
        industries=industries,
        regions=regions,
        schema=schema,
    )
    if r.problems:
        raise InputError(r.problems)
    return settings
