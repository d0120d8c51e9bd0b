"""Getting the backbone once, reproducibly: ``npm pack`` the pinned nsfwjs, check its sha256, convert, cache.

npm is the only thing here that knows a registry (it honours the user's npm config); our code only checks that the
tarball it brings is byte-for-byte the pinned one. The cache folder (``TOONMATCH_CACHE``, else ``~/.cache/toonmatch``)
then holds ``nsfwjs-mobilenet_v2_mid/model.keras``, its ``source.json`` (written last: the artefact is complete
once it exists) and the package's MIT ``LICENSE``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from ml.pretrained import nsfwjs
from ml.pretrained.errors import BackboneUnavailableError

log = logging.getLogger(__name__)

FOLDER = f"{nsfwjs.PACKAGE}-{nsfwjs.MODEL}"
MODEL_FILE = "model.keras"
SOURCE_FILE = "source.json"
NPM_TIMEOUT = 600  # seconds; the tarball is ~25 MB
_MODEL_MEMBER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.min\.js$")


def default_cache_dir() -> Path:
    """``TOONMATCH_CACHE`` (environment or ``.env``, through the settings), else ``~/.cache/toonmatch``."""
    from core.settings import CacheSettings

    return CacheSettings().path


def backbone_dir(cache_dir: str | Path | None = None) -> Path:
    return Path(cache_dir if cache_dir is not None else default_cache_dir()) / FOLDER


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_source(folder: Path) -> dict | None:
    try:
        return json.loads((folder / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_current(folder: Path) -> bool:
    """The cached model is the pinned release's, complete and unaltered."""
    source = _read_source(folder)
    model = folder / MODEL_FILE
    return bool(
        source
        and source.get("package") == nsfwjs.PACKAGE
        and source.get("version") == nsfwjs.VERSION
        and source.get("tarball_sha256") == nsfwjs.TARBALL_SHA256
        and model.is_file()
        and source.get("model_sha256") == sha256_of(model)
    )


# ---------------------------------------------------------------------------------------------- acquisition


def npm_pack(workdir: Path) -> Path:
    """``npm pack nsfwjs@<pinned>`` into ``workdir``; the tarball, checked against the pinned sha256."""
    npm = shutil.which("npm")
    spec = f"{nsfwjs.PACKAGE}@{nsfwjs.VERSION}"
    if npm is None:
        raise BackboneUnavailableError(f"npm is not installed: it is needed once to fetch {spec} (install Node.js)")
    try:
        result = subprocess.run(
            [npm, "pack", spec, "--ignore-scripts", "--loglevel=error"],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackboneUnavailableError(f"npm pack {spec} failed: {exc}") from exc
    tarballs = sorted(workdir.glob("*.tgz"))
    if result.returncode != 0 or len(tarballs) != 1:
        lines = [line.strip() for line in (result.stderr or result.stdout or "").splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {result.returncode}"
        raise BackboneUnavailableError(f"npm pack {spec} failed (offline or no registry access?): {reason}")
    actual = sha256_of(tarballs[0])
    if actual != nsfwjs.TARBALL_SHA256:
        raise BackboneUnavailableError(
            f"{tarballs[0].name} has sha256 {actual}, expected {nsfwjs.TARBALL_SHA256}: refusing to use it"
        )
    return tarballs[0]


def extract_model(tarball: Path, dest: Path) -> Path:
    """Copy just the model's files (and the licence) out of the tarball, under names we choose; the model folder."""
    model_dir = dest / nsfwjs.MODEL
    model_dir.mkdir(parents=True)
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive.getmembers():
                name = member.name.removeprefix("./")
                base = name.removeprefix(nsfwjs.MODEL_DIR)
                if name.startswith(nsfwjs.MODEL_DIR) and _MODEL_MEMBER.match(base) and member.isfile():
                    (model_dir / base).write_bytes(archive.extractfile(member).read())
                elif name == nsfwjs.LICENSE_FILE and member.isfile():
                    (dest / "LICENSE").write_bytes(archive.extractfile(member).read())
    except (OSError, tarfile.TarError) as exc:
        raise BackboneUnavailableError(f"cannot read {tarball.name}: {exc}") from exc
    if not (model_dir / "model.min.js").is_file():
        raise BackboneUnavailableError(f"{tarball.name} has no {nsfwjs.MODEL_DIR}model.min.js")
    return model_dir


def convert_model(model_dir: Path, out: Path):
    """Convert the extracted graph model, check its outputs' shapes, save it as ``out``; the Keras model."""
    from ml.pretrained.convert import to_keras
    from ml.pretrained.tfjs import load_graph_model

    model = to_keras(load_graph_model(model_dir), nsfwjs.OUTPUTS, name=f"{nsfwjs.PACKAGE}_{nsfwjs.MODEL}")
    shapes = {key: tuple(t.shape) for key, t in zip(model.output_names, model.outputs, strict=True)}
    expected = {"features": (None, nsfwjs.FEATURE_DIM), "nsfw": (None, len(nsfwjs.CLASSES))}
    if tuple(model.input_shape) != (None, nsfwjs.INPUT_SIZE, nsfwjs.INPUT_SIZE, 3) or shapes != expected:
        raise BackboneUnavailableError(f"the converted model has unexpected shapes: {model.input_shape} → {shapes}")
    model.save(out)
    return model


def fetch_backbone(cache_dir: str | Path | None = None) -> Path:
    """The cached ``model.keras`` of the pinned backbone, fetching and converting it first if needed (idempotent)."""
    folder = backbone_dir(cache_dir)
    if _is_current(folder):
        return folder / MODEL_FILE
    try:
        _fetch_into(folder)
    except OSError as exc:  # an unwritable or full cache folder
        raise BackboneUnavailableError(f"cannot write the backbone to {folder}: {exc}") from exc
    log.info("backbone ready: %s", folder / MODEL_FILE)
    return folder / MODEL_FILE


def _fetch_into(folder: Path) -> None:
    import keras
    import tensorflow as tf

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=folder) as tmp:
        work = Path(tmp)
        log.info("fetching %s@%s with npm …", nsfwjs.PACKAGE, nsfwjs.VERSION)
        tarball = npm_pack(work)
        model_dir = extract_model(tarball, work)
        log.info("converting %s to Keras …", nsfwjs.MODEL)
        convert_model(model_dir, work / MODEL_FILE)
        source = {
            "package": nsfwjs.PACKAGE,
            "version": nsfwjs.VERSION,
            "model": nsfwjs.MODEL,
            "license": nsfwjs.LICENSE,
            "tarball_sha256": nsfwjs.TARBALL_SHA256,
            "model_file": MODEL_FILE,
            "model_sha256": sha256_of(work / MODEL_FILE),
            "classes": list(nsfwjs.CLASSES),
            "input": {"size": nsfwjs.INPUT_SIZE, "channels": "RGB", "range": [0.0, 1.0]},
            "feature_dim": nsfwjs.FEATURE_DIM,
            "converted_with": {"keras": keras.__version__, "tensorflow": tf.__version__},
        }
        (work / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
        (folder / SOURCE_FILE).unlink(missing_ok=True)  # stale until the new model is in place
        for name in (MODEL_FILE, "LICENSE", SOURCE_FILE):  # source.json last: it marks a complete artefact
            if (work / name).exists():
                os.replace(work / name, folder / name)


def load_backbone(cache_dir: str | Path | None = None):
    """The backbone as a Keras model (fetched and converted on first use): RGB [0, 1] 224×224 in,
    ``{"features": (n, 1792), "nsfw": (n, 5)}`` out."""
    import keras

    path = fetch_backbone(cache_dir)
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # a corrupt or incompatible file: one line for the user, not a traceback
        raise BackboneUnavailableError(f"cannot load the backbone {path}: {exc}") from exc


def backbone_source(cache_dir: str | Path | None = None) -> dict:
    """The cached backbone's ``source.json`` (package, version, hashes, licence) for recording in run folders."""
    folder = backbone_dir(cache_dir)
    source = _read_source(folder)
    if source is None:
        raise BackboneUnavailableError(f"no backbone in {folder}: run `python -m scripts.fetch_weights`")
    return source
