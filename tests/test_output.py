"""The output's reuse of files from the spare tree and the live site, one at a time and in bulk."""

from __future__ import annotations

from pathlib import Path

from generator.output import Output, Previous, SpareCheck, digest


def tree(folder: Path, files: dict[str, bytes]) -> Output:
    out = Output(folder)
    for rel, content in files.items():
        out.write(rel, content)
    return out


def test_keeping_many_files_is_keeping_each(tmp_path: Path) -> None:
    """keep_files keeps what keep_file keeps: the spare tree's file when it is still what its
    manifest says, else the live site's linked when that is, else nothing."""
    same = {"a.json": b"a", "b.json": b"b", "c.json": b"c"}
    spare = tree(tmp_path / "spare", same | {"e.json": b"e"}).manifest()
    live = tree(tmp_path / "live", same | {"d.json": b"d"}).manifest()
    wanted = [("a.json", digest(b"a")), ("b.json", digest(b"other")), ("c.json", digest(b"c")),
              ("d.json", digest(b"d")), ("e.json", digest(b"e")), ("f.json", digest(b"f"))]
    results = []
    for bulk in (True, False, "checked aside"):
        # Replaced in the spare tree since its manifest was written: not kept but linked.
        (tmp_path / "spare" / "c.json").unlink()
        (tmp_path / "spare" / "c.json").write_bytes(b"C")
        stale = SpareCheck(tmp_path / "spare", spare).stale() if bulk == "checked aside" else None
        out = Output(tmp_path / "spare", Previous(tmp_path / "live", live), spare, stale)
        if bulk:
            got = out.keep_files(wanted)
        else:
            got = {rel for rel, want in wanted if out.keep_file(rel, want)}
        results.append((got, out.kept, out.linked, set(out.written),
                        {rel: out.digest_of(rel) for rel in out.states}))
    assert results[0] == results[1] == results[2]
    got, kept, linked, written, states = results[0]
    assert got == written == {"a.json", "c.json", "d.json", "e.json"}
    assert (kept, linked) == (2, 2)  # a and e kept; c and d linked from the live site
    assert (tmp_path / "spare" / "c.json").read_bytes() == b"c"
    assert states == {rel: digest((tmp_path / "spare" / rel).read_bytes()) for rel in got}


def test_the_spare_check_finds_each_file_that_changed(tmp_path: Path) -> None:
    """SpareCheck names the files no longer as the manifest recorded them: rewritten in place
    (other bytes), replaced by another file, removed; not the ones left alone."""
    spare = tmp_path / "spare"
    manifest = tree(spare, {f"{name}.json": name.encode() for name in "abcde"}).manifest()
    with open(spare / "a.json", "r+b") as handle:  # in place: the same inode
        handle.write(b"A longer")
    (spare / "b.json").unlink()
    (spare / "b.json").write_bytes(b"b")  # the same bytes in another file
    (spare / "c.json").unlink()
    check = SpareCheck(spare, manifest)
    assert check.stale() == {"a.json", "b.json", "c.json"}
    assert check.stale() == {"a.json", "b.json", "c.json"}  # asked again: the same answer
    out = Output(spare, None, manifest, check.stale())
    assert out.keep_files((f"{name}.json", digest(name.encode())) for name in "abcde") == {
        "d.json", "e.json"}


def test_a_spare_check_that_did_not_finish_leaves_each_file_to_be_checked(
        tmp_path: Path) -> None:
    spare = tmp_path / "spare"
    manifest = tree(spare, {"a.json": b"a"}).manifest()
    check = SpareCheck(spare, manifest)
    check.close()  # stopped (a build that failed): no answer, not an empty one
    assert check.stale() is None


def test_a_file_written_in_chunks_is_their_bytes_in_place_or_new(tmp_path: Path) -> None:
    """write_chunks over the spare tree's own copy (written in place, the same inode), over a
    copy it shares with the live site (a new file), and into an empty folder, with content
    longer and shorter than what was there: each time the file holds the chunks' bytes and
    the output records their digest."""
    spare_dir, live_dir = tmp_path / "spare", tmp_path / "live"
    for before, after in ((b"x" * 50, [b"ab", b"", b"cd"]), (b"y", [b"long" * 20, b"er"])):
        spare = tree(spare_dir, {"own.json": before, "shared.json": before}).manifest()
        live = tree(live_dir, {"shared.json": before}).manifest()
        (spare_dir / "shared.json").unlink()
        (spare_dir / "shared.json").hardlink_to(live_dir / "shared.json")
        spare.files["shared.json"] = live.files["shared.json"]  # as the link stage records it
        inode = (spare_dir / "own.json").stat().st_ino
        out = Output(spare_dir, Previous(live_dir, live), spare)
        content = b"".join(after)
        for rel in ("own.json", "shared.json", "new.json"):
            assert out.write_chunks(rel, after, digest(content))
            assert (spare_dir / rel).read_bytes() == content, rel
            assert out.digest_of(rel) == digest(content)
        assert (spare_dir / "own.json").stat().st_ino == inode  # written in place
        assert (live_dir / "shared.json").read_bytes() == before  # the live site untouched
        for folder in (spare_dir, live_dir):
            for path in folder.iterdir():
                path.unlink()
