"""`selenite://` through fsspec against a real `selenite serve`: listing, pandas and zarr reading
through the registered protocol, range reads of a large file that move only what is read
(server-counted), and the shared cache used instead of the network."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import fsspec
import gypsum_client as gc
import numpy as np
import pandas as pd
import pytest
import zarr

from selenite.errors import ChecksumMismatch, RegistryError
from selenite.fsspec import SeleniteFileSystem
from tests.support.env import DROPPED_PREFIXES, isolated_vars
from tests.support.evilreg import EvilRegistry, Reply, Request
from tests.support.files import md5
from tests.support.registry import Registry, start_registry
from tests.support.seed import create_project, upload_version

PROJECT, ASSET = "fs", "data"
CSV = b"name,value\nalpha,1\nbeta,2\n"
BLOCK = os.urandom((1 << 20) + 7)  # the large file repeats it: offsets are never block-aligned
BIG_BLOCKS = 200
BIG_SIZE = len(BLOCK) * BIG_BLOCKS


def big_bytes(start: int, n: int) -> bytes:
    """Bytes ``start``..``start + n`` of the large file (without building it)."""
    out = bytearray()
    while len(out) < n:
        at = (start + len(out)) % len(BLOCK)
        out += BLOCK[at : at + n - len(out)]
    return bytes(out)


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """One registry for the module (the tests only read): v1 holds a CSV, a zarr array and a 200 MB
    file written block by block (never whole in memory)."""
    base = tmp_path_factory.mktemp("fsspec")
    with pytest.MonkeyPatch.context() as mp:  # module scope: before the per-test isolation
        for k in list(os.environ):
            if k.startswith(DROPPED_PREFIXES):
                mp.delenv(k)
        for k, v in isolated_vars(base / "home", base / "template", base / "cache").items():
            mp.setenv(k, v)
        registry = start_registry(base / "registry")
        create_project(registry, PROJECT)
        upload = base / "upload"
        arr = zarr.create_array(store=str(upload / "z.zarr"), shape=(40, 30), chunks=(10, 10), dtype="int32")
        arr[:] = np.arange(1200, dtype="int32").reshape(40, 30)
        (upload / "tables").mkdir()
        (upload / "tables" / "x.csv").write_bytes(CSV)
        with open(upload / "big.bin", "wb") as f:
            for _ in range(BIG_BLOCKS):
                f.write(BLOCK)
        files = sorted(p.relative_to(upload).as_posix() for p in upload.rglob("*") if p.is_file())
        init = gc.start_upload(PROJECT, ASSET, "v1", files=files, links=[], url=registry.url,
                               token=registry.admin_token, directory=str(upload))
        gc.upload_files(init, directory=str(upload), url=registry.url)
        gc.complete_upload(init, url=registry.url)
        upload_version(registry, base, "v2", {"tables/x.csv": b"name,value\ngamma,3\n"}, project=PROJECT,
                       asset=ASSET)
    try:
        yield registry
    finally:
        registry.stop()


def sent(reg: Registry) -> int:
    return reg.stats()["file_get_bytes"]


def test_listing_and_pandas(reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    fs = fsspec.filesystem("selenite", url=reg.url)
    assert isinstance(fs, SeleniteFileSystem)  # found through the package's entry point
    assert PROJECT in fs.ls("", detail=False)
    assert fs.ls(PROJECT, detail=False) == [f"{PROJECT}/{ASSET}"]
    assert fs.ls(f"{PROJECT}/{ASSET}", detail=False) == [f"{PROJECT}/{ASSET}@v1", f"{PROJECT}/{ASSET}@v2"]
    top = f"{PROJECT}/{ASSET}@v1"
    assert fs.ls(f"selenite://{top}", detail=False) == [f"{top}/tables", f"{top}/z.zarr", f"{top}/big.bin"]
    info = fs.info(f"{top}/tables/x.csv")
    assert (info["type"], info["size"], info["md5"]) == ("file", len(CSV), md5(CSV))
    assert fs.info(f"{top}/tables")["type"] == "directory" and fs.isdir(f"{PROJECT}/{ASSET}")
    assert fs.find(f"{top}/tables") == [f"{top}/tables/x.csv"]
    for missing in (f"{top}/nope.csv", f"{PROJECT}/{ASSET}@v9/x", "nope", f"{PROJECT}/nope", f"{top}/tables/x.csv/y"):
        assert not fs.exists(missing), missing
        with pytest.raises(FileNotFoundError):
            fs.info(missing)
    for missing in ("nope", f"{PROJECT}/nope", f"{PROJECT}//{ASSET}", f"{PROJECT}/{ASSET}/v1", f"{PROJECT}/@v1",
                    f"{top}/nope"):
        with pytest.raises(FileNotFoundError):
            fs.ls(missing)
    assert fs.cat_file(f"{top}/tables/x.csv", start=5, end=5) == b""
    with pytest.raises(PermissionError, match="read-only"):
        fs.open(f"{top}/new.csv", "wb")

    frame = pd.read_csv(f"selenite://{top}/tables/x.csv", storage_options={"url": reg.url})
    assert frame.to_dict("list") == {"name": ["alpha", "beta"], "value": [1, 2]}
    monkeypatch.setenv("SELENITE_URL", reg.url)  # the registry as the CLI finds it
    frame = pd.read_csv(f"selenite://{PROJECT}/{ASSET}@v2/tables/x.csv")
    assert frame.to_dict("list") == {"name": ["gamma"], "value": [3]}
    assert fsspec.open(f"selenite://{top}/tables/x.csv").open().read() == CSV


def test_zarr(reg: Registry) -> None:
    arr = zarr.open_array(f"selenite://{PROJECT}/{ASSET}@v1/z.zarr", mode="r",
                          storage_options={"registry": reg.url})
    assert arr.shape == (40, 30)
    assert np.array_equal(arr[5:25, 12:14], np.arange(1200, dtype="int32").reshape(40, 30)[5:25, 12:14])


def test_range_reads_move_what_is_read(reg: Registry) -> None:
    fs = SeleniteFileSystem(url=reg.url, skip_instance_cache=True)
    path = f"{PROJECT}/{ASSET}@v1/big.bin"
    assert fs.size(path) == BIG_SIZE
    fs.info(path)  # the manifest: read before counting
    middle, mib = BIG_SIZE // 2 + 12345, 1 << 20
    before = sent(reg)
    with fs.open(path) as f:
        f.seek(middle)
        assert f.read(mib) == big_bytes(middle, mib)
    moved = sent(reg) - before
    assert mib <= moved <= mib + fs.blocksize, moved  # the 1 MiB read, plus at most one read-ahead block
    before = sent(reg)
    assert fs.cat_file(path, start=-10) == big_bytes(BIG_SIZE - 10, 10)
    assert fs.cat_file(path, start=3, end=3 + mib) == big_bytes(3, mib)
    assert sent(reg) - before == 10 + mib  # exact ranges, one request each


def test_shared_cache(reg: Registry, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = f"{PROJECT}/{ASSET}@v1/tables/x.csv"
    whole = SeleniteFileSystem(url=reg.url, cache_dir=str(cache), whole_objects=True, skip_instance_cache=True)
    whole.info(path)  # the manifest: read before counting
    before = sent(reg)
    with whole.open(path) as f:
        assert f.read() == CSV
    assert sent(reg) - before == len(CSV)  # downloaded once, into the cache
    objects = [p for p in (cache / "objects").rglob("*") if p.is_file()]
    assert [hashlib.md5(p.read_bytes()).hexdigest() for p in objects] == [md5(CSV)]
    ranged = SeleniteFileSystem(url=reg.url, cache_dir=str(cache), skip_instance_cache=True)
    ranged.info(path)
    before = sent(reg)
    assert ranged.cat_file(path, start=5) == CSV[5:]
    with ranged.open(path) as f:
        assert f.read() == CSV
    assert sent(reg) == before  # read from the cache: no byte from the registry


def test_a_registry_that_ignores_or_lies_about_ranges(evilreg: EvilRegistry, tmp_path: Path) -> None:
    """A gypsum worker ignores Range (200, the whole object): the part is cut out of its answer and
    a whole read is md5-checked. A 206 for other bytes than asked is refused, never returned."""
    data = bytes(range(256)) * 400
    evilreg.add_version("g", "a", "v1", {"x.bin": data, "bad.bin": data})
    evilreg.objects["g/a/v1/bad.bin"] = bytes(len(data))  # same size, wrong bytes
    fs = SeleniteFileSystem(registry=evilreg.url, cache_dir=str(tmp_path / "cache"), skip_instance_cache=True)
    assert fs.cat_file("g/a@v1/x.bin", start=1000, end=1010) == data[1000:1010]
    with fs.open("g/a@v1/x.bin", block_size=4096) as f:
        f.seek(50_000)
        assert f.read(300) == data[50_000:50_300]
    assert fs.cat_file("g/a@v1/x.bin") == data
    with pytest.raises(ChecksumMismatch):
        fs.cat_file("g/a@v1/bad.bin")

    def lying(req: Request) -> Reply:
        return Reply(206, data[:10], {"Content-Range": f"bytes 0-9/{len(data)}"})

    evilreg.routes[("GET", "/file/g%2Fa%2Fv1%2Fx.bin")] = lying
    with pytest.raises(RegistryError, match="other bytes"):
        fs.cat_file("g/a@v1/x.bin", start=100, end=110)
