"""Write-then-rename: the target holds the old content or the new, never a half-written one."""

import pytest

from nexgen_assets.lib.storage.atomic import atomic_path


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_file_is_swapped_in_only_when_the_block_succeeds(tmp_path):
    target = tmp_path / "out" / "manifest.json"
    with atomic_path(target) as partial:
        assert partial.parent == target.parent and partial.name.startswith(".manifest.json.")
        partial.write_text("v1")
        assert not target.exists()
    assert target.read_text() == "v1"

    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(target) as partial:
            partial.write_text("half of v2")
            raise RuntimeError("disk full")
    assert target.read_text() == "v1" and _names(target.parent) == ["manifest.json"]


def test_a_folder_replaces_the_old_folder_whole(tmp_path):
    target = tmp_path / "models" / "v1"
    for content in ("old", "new"):
        with atomic_path(target) as partial:
            partial.mkdir()
            (partial / f"{content}.txt").write_text(content)
    assert _names(target) == ["new.txt"] and _names(target.parent) == ["v1"]


def test_a_failed_folder_write_leaves_the_old_folder_and_no_debris(tmp_path):
    target = tmp_path / "t"
    with atomic_path(target) as partial:
        partial.mkdir()
        (partial / "a.parquet").write_text("a")
    with pytest.raises(ValueError):
        with atomic_path(target) as partial:
            partial.mkdir()
            (partial / "b.parquet").write_text("b")
            raise ValueError
    assert _names(target) == ["a.parquet"] and _names(tmp_path) == ["t"]
