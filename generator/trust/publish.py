"""A build's trust artefacts: the tree over every record, the signed checkpoint, every proof."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import data
from ..errors import InputError, Problem
from ..model import Registry
from ..output import Output, digest, read_cache, write_cache
from ..settings import Settings
from . import note
from .checkpoint import (
    CHECKPOINT_JSON,
    CHECKPOINT_NOTE,
    CHECKPOINT_SIG,
    CHECKPOINT_TEXT,
    CHECKPOINTS,
    FILES,
    Checkpoint,
    TreeHead,
    as_of_problem,
    origin_of,
    parse_head,
    signing_time,
)
from .keys import KEY_ENV, fingerprint, pinned_key, public_pem, signing_key
from .log import Log, derive
from .tiles import EntriesUnknown, bundles, hash_tiles
from .tree import MerkleTree, b64, prefix_root


@dataclass
class Trust:
    """The trust artefacts of one build: the checkpoint, its signature and the log."""

    checkpoint: Checkpoint
    signature: bytes | None
    public_key: Ed25519PublicKey | None
    state: LogState
    manifest: bytes = b""  # files.sha256

    def files(self) -> dict[str, bytes]:
        """Site-relative path → content of the checkpoint files."""
        body = self.checkpoint.body()
        out = {
            CHECKPOINT_JSON: pretty(self.checkpoint.to_json(self.signature, self.public_key)),
            CHECKPOINT_TEXT: body,
            CHECKPOINT_NOTE: body,
            FILES: self.manifest,
        }
        if self.signature is not None and self.public_key is not None:
            raw = note.key_hash(self.checkpoint.origin, self.public_key) + self.signature
            line = f"{note.DASH} {self.checkpoint.origin} {b64(raw)}\n".encode()
            out[CHECKPOINT_NOTE] = body + b"\n" + line
            out[CHECKPOINT_SIG] = self.signature
        return out


@dataclass
class LogState:
    """This build's log: every version of every record (:mod:`.log`) and its tree."""

    log: Log
    tree: MerkleTree

    def extra(self) -> dict[str, dict[str, Any]]:
        """Each record's ``log`` member: the leaf of its current version."""
        return {number: {"log": {"leaf_index": i}} for number, i in self.log.latest.items()}

    def members(self, number: str) -> list[tuple[str, bytes, bytes]]:
        """:func:`generator.data.members` of the record's ``log`` member, indented and compact
        (formatted here: 1 s of a build at 100,000 records through the general encoder)."""
        i = self.log.latest[number]
        return [("log", b'  "log": {\n    "leaf_index": %d\n  }' % i,
                 b'"log":{"leaf_index":%d}' % i)]


def log_state(
    registry: Registry, prepared: data.Prepared | None = None, cache_dir: Path | None = None,
    keys: Mapping[str, bytes] | None = None, *, resume: bool = True,
) -> LogState:
    """Derive the log (git history, then the records as they are) and hash it into the tree.
    ``cache_dir``, ``keys`` and ``resume``: see :func:`generator.trust.log.derive`."""
    if prepared is None or prepared.registry is not registry:
        prepared = data.prepare(registry)
    current = {
        cert.number: made.canonical
        for cert, made in zip(registry.certificates, prepared.fragments, strict=True)
    }
    log = derive(registry, current, cache_dir, keys, resume=resume)
    return LogState(log, log.tree())


def tree_heads(state: LogState, origin: str, key: Ed25519PrivateKey) -> dict[str, bytes]:
    """``checkpoints/<size>``: the tree head after each commit that grew the log, signed at
    the commit's time. Ed25519 signs deterministically: every build derives the same bytes."""
    out = {}
    for growth in state.log.growth:
        head = TreeHead(
            origin,
            growth.size,
            prefix_root(state.tree, growth.size),
            growth.time,
            growth.commit,
        )
        out[f"{CHECKPOINTS}/{growth.size}"] = note.sign(head.body(), origin, key)
    return out


def manifest(digests: Mapping[str, bytes]) -> bytes:
    """files.sha256: a ``sha256sum`` line per data file (path relative to api/v1/), by path."""
    prefix = data.API + "/"
    lines = [
        f"{digests[rel].hex()}  {rel.removeprefix(prefix)}\n" for rel in sorted(digests)
    ]
    return "".join(lines).encode("utf-8")


def contradictions(registry: Registry) -> list[Problem]:
    """Records whose history runs past the as-of date: a status derived for that day would
    contradict them (a suspension "since" a later day), so such a checkpoint is not signed."""
    found = []
    as_of, standings = registry.as_of, registry.standings
    for cert in registry.certificates:
        since = standings[cert.number].since
        # Events and audits are in date order (the rules refuse a record otherwise): the last
        # of each is its latest.
        events, audits = cert.events, cert.audits
        if events:
            latest = max(events[-1].date, audits[-1].date) if audits else events[-1].date
        else:
            latest = audits[-1].date if audits else cert.issued
        if latest > as_of or (since is not None and since > as_of):
            found.append(
                Problem(
                    cert.source or cert.number,
                    0,
                    f"the record has an entry dated {latest}, after the as-of date "
                    f"{registry.as_of}; a checkpoint of that day would contradict it "
                    "(build with a later --as-of)",
                )
            )
    return found


def compute(
    registry: Registry,
    key: Ed25519PrivateKey | None,
    environ: Mapping[str, str] | None = None,
    *,
    digests: Mapping[str, bytes] | None = None,
    state: LogState | None = None,
    now: dt.datetime | None = None,
) -> Trust:
    """Sign the checkpoint over the tree and the published files' ``digests``.

    A signed checkpoint is refused (:class:`InputError`) when its as-of date is in the future of
    its signing time or contradicts a record.
    """
    state = state or log_state(registry)
    settings = registry.settings
    time = signing_time(registry.as_of, key is not None, environ, now)
    listed = manifest(digests or {})
    checkpoint = Checkpoint(
        origin_of(settings.site_url),
        state.tree.size,
        state.tree.root,
        registry.as_of,
        time,
        settings.stale_after_days,
        hashlib.sha256(listed).digest(),
    )
    if key is not None:
        problem = as_of_problem(registry.as_of, time)
        problems = [Problem("--as-of", 0, problem)] if problem else contradictions(registry)
        if problems:
            raise InputError(problems)
    signature = key.sign(checkpoint.body()) if key is not None else None
    public = key.public_key() if key is not None else None
    return Trust(checkpoint, signature, public, state, listed)


def publish(
    registry: Registry,
    out: Output,
    *,
    cache_dir: Path | None = None,
    keys: Mapping[str, bytes] | None = None,
    environ: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Write the open data with every record's proof, then sign (with $STARMARK_SIGNING_KEY, if
    set) a checkpoint over the tree and the digest of every file written; return the number of
    records. ``cache_dir`` and ``keys``: see :func:`generator.data.prepare`.
    """
    env = os.environ if environ is None else environ
    key = signing_key(registry.settings, dict(env))
    prepared = data.prepare(registry, cache_dir=cache_dir, keys=keys)
    state = log_state(registry, prepared, cache_dir, keys)
    made: dict[str, bytes] = {}
    decided: dict[tuple[str, bytes], bool] = {}

    def bundle_kept(rel: str, leaves: bytes) -> bool:
        unit, key = f"log:{rel}", digest(leaves)
        if (rel, key) not in decided:
            decided[rel, key] = out.reuse(unit, key) is not None
            if not decided[rel, key]:
                made[rel] = key
        return decided[rel, key]

    try:
        entry_bundles = bundles(state.tree, state.log.entries, bundle_kept)
    except EntriesUnknown:
        # The log was appended to a kept state, whose entries were not read, and a bundle of
        # them is not in place: the log is derived whole (the same log, with its entries).
        state = log_state(registry, prepared, cache_dir, keys, resume=False)
        entry_bundles = bundles(state.tree, state.log.entries, bundle_kept)
    digests: dict[str, bytes] = {}
    kept = (RecordFiles(cache_dir, out, keys, state.log.latest)
            if cache_dir is not None and keys else None)
    if kept is not None:
        kept.check({c.number: data.record_path(c.number) for c in registry.certificates})
    # Each record's extra member is the log's (its leaf, :meth:`LogState.extra`), made by
    # LogState.members: the records that have one are the keys of ``latest``.
    count = data.write_data(
        registry, out, extra=state.log.latest, prepared=prepared, digests=digests,
        kept=kept.kept if kept is not None else None, members_of=state.members,
    )
    if kept is not None:
        kept.save(digests)
    if key is not None and out.previous is not None:
        refuse_fork(out.previous.site_dir / CHECKPOINT_JSON, state)
    trust = compute(registry, key, env, digests=digests, state=state, now=now)
    files = trust.files()
    files |= {f"{data.API}/{rel}": content for rel, content in hash_tiles(state.tree).items()}
    for rel, content in entry_bundles.items():
        out.write(f"{data.API}/{rel}", content)
        out.unit(f"log:{rel}", made[rel], (f"{data.API}/{rel}",))
    if key is not None:
        files |= tree_heads(state, trust.checkpoint.origin, key)
    for rel, content in files.items():
        out.write(rel, content)
    return count


class RecordFiles:
    """The digests of each record's open-data file, kept between builds by the record's key
    (everything its data is made from, :func:`generator.data.prepare`) and its log member
    (the leaf of its current version, the one member :meth:`LogState.extra` adds), so that
    an unchanged record's file, kept or linked from the last site, is neither made nor hashed
    again. A cache that cannot be read (or is of another format) is ignored; one that cannot
    be written is no error."""

    FORMAT = 3  # 3: the log member as the leaf's index

    def __init__(self, cache_dir: Path, out: Output, keys: Mapping[str, bytes],
                 leaves: Mapping[str, int]) -> None:
        self.path = cache_dir / "trust" / "record-files.marshal"
        self.out, self.keys, self.leaves = out, keys, leaves
        self.old: dict[bytes, tuple[bytes, bytes]] = read_cache(self.path, self.FORMAT)
        self.used: dict[bytes, tuple[bytes, bytes]] = {}
        self.made: dict[str, bytes] = {}  # the file of each record made this time, by key
        self.found: dict[str, tuple[bytes, tuple[bytes, bytes]]] = {}  # by path: key, entry
        self.in_place: set[str] = set()  # the files found as they were (see check)

    def _key(self, number: str) -> bytes | None:
        key = self.keys.get(number)
        if key is None:
            return None
        # The key is a fixed-size digest: what follows it cannot make two keys collide.
        leaf = self.leaves.get(number)
        return key + (b"-" if leaf is None else b"%d" % leaf)

    def check(self, files: Mapping[str, str]) -> None:
        """Keep or link, all at once, the file (``files``: by record number) of each record
        whose key this cache knows, if it is as it was; :meth:`kept` then answers for each.
        The build's link stage put some in place already (their state checked there) when
        their page's inputs did not change: those are compared by digest."""
        wanted = []
        placed = self.out.states
        for number, rel in files.items():
            key = self._key(number)
            found = self.old.get(key) if key is not None else None
            if not (isinstance(found, tuple) and len(found) == 2):
                continue
            assert key is not None
            if rel not in placed:
                self.found[rel] = key, found
                wanted.append((rel, found[0]))
            elif self.out.digest_of(rel) == found[0]:
                self.found[rel] = key, found
                self.in_place.add(rel)
        self.in_place |= self.out.keep_files(wanted)

    def kept(self, rel: str, number: str) -> bytes | None:
        """The SHA-256 of the record's file if it is in place as it was (see :meth:`check`);
        else None, and the file is made."""
        if rel in self.in_place:
            key, found = self.found[rel]
            self.used[key] = found
            return found[1]
        made = self._key(number)
        if made is not None:
            self.made[rel] = made
        return None

    def save(self, digests: Mapping[str, bytes]) -> None:
        """Keep the files of this build (``digests``: their SHA-256, by path)."""
        for rel, key in self.made.items():
            if rel in digests and rel in self.out.states:
                self.used[key] = (self.out.digest_of(rel), digests[rel])
        if self.used.keys() != self.old.keys():
            write_cache(self.path, self.FORMAT, self.used)


def refuse_fork(previous: Path, state: LogState) -> None:
    """Refuse to sign a log that does not extend the one the live site published (its history
    was rewritten, or this is another branch): monitors would see a fork. Raises InputError."""
    try:
        doc = json.loads(previous.read_bytes())
        origin, size, root = parse_head(doc["body"].encode("utf-8"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return  # no published checkpoint of this format to extend
    if size <= state.tree.size and prefix_root(state.tree, size) == root:
        return
    raise InputError(
        [
            Problem(
                str(previous),
                0,
                f"the log of this build ({state.tree.size} versions) does not extend the "
                f"published one ({size} versions, {origin}): the git history of certificates/ "
                "was rewritten, or this is not main. Build main's history; to publish a new "
                "history anyway, remove the site folder (every monitor will see the fork)",
            )
        ]
    )


def is_signed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a build will sign: $STARMARK_SIGNING_KEY names a key file."""
    env = os.environ if environ is None else environ
    return bool(env.get(KEY_ENV, "").strip())


UNSIGNED_WARNING = (
    f"${KEY_ENV} is not set: the checkpoint ({CHECKPOINT_JSON}) is UNSIGNED and proves nothing "
    "about who published the records. Set it to the private key file to sign."
)


def pretty(value: Any) -> bytes:
    """The published form of the per-record and checkpoint JSON files (as generator.data writes)."""
    return data.pretty(value)


def public_key_markdown(settings: Settings) -> str:
    """The committed public key (PEM) and its fingerprint, for the verification page.

    Meant for a ``<!-- starmark:signing-key -->`` block marker; a key file that cannot be read
    is a ValueError naming it, as markers report their problems.
    """
    try:
        key = pinned_key(settings)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    if key is None:
        return (
            '<p>本登记库尚未发布签名公钥。<span lang="en">This registry has not published a '
            "signing key yet.</span></p>"
        )
    pem = public_pem(key).decode("ascii").strip()
    return (
        f"```text\n{pem}\n```\n\n"
        f'<p>公钥指纹 <span lang="en">Key fingerprint</span>: <code>{fingerprint(key)}</code></p>'
    )
