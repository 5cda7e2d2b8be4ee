"""What of a certificate and its registry the mark shows (:class:`MarkInfo`), and what every
certificate of one level shares (:class:`Level`): plain data, read by the cache on every build
without loading the drawing code (:mod:`.design`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Certificate, Registry


@dataclass(frozen=True)
class Level:
    """What every certificate of one level shows alike: the key of its cached art."""

    zh: str
    en: str
    stars: int
    body_name: str


@dataclass(frozen=True)
class MarkInfo:
    """Every record and registry field the artwork shows; its JSON goes into the cache hash."""

    number: str
    url: str
    level_zh: str
    level_en: str
    stars: int
    name: str
    name_en: str
    scope_zh: str
    scope_en: str
    issued: str
    expires: str
    standard: str
    body_name: str
    body_name_en: str

    @classmethod
    def of(cls, cert: Certificate, registry: Registry) -> MarkInfo:
        settings = registry.settings
        level = registry.level(cert)
        return cls(
            number=cert.number,
            url=settings.certificate_url(cert.number),
            level_zh=level.zh,
            level_en=level.en,
            stars=level.stars,
            name=cert.organization.name,
            name_en=cert.organization.name_en or "",
            scope_zh=cert.scope_zh,
            scope_en=cert.scope_en or "",
            issued=cert.issued.isoformat(),
            expires=cert.expires.isoformat(),
            standard=cert.standard,
            body_name=settings.body.name,
            body_name_en=settings.body.name_en,
        )

    @property
    def level(self) -> Level:
        """The part of this record that the level's shared art depends on."""
        return Level(self.level_zh, self.level_en, self.stars, self.body_name)

    def texts(self) -> dict[str, str]:
        """Every text drawn, by the record field it comes from."""
        return {
            "number": self.number,
            "level": self.level_zh + self.level_en,
            "organization.name": self.name,
            "organization.name_en": self.name_en,
            "scope.zh": self.scope_zh,
            "scope.en": self.scope_en,
            "standard": self.standard,
            "url": self.url,
            "body": self.body_name + self.body_name_en,
        }
