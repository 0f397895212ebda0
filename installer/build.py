"""Build the Digit Lab bundle, smoke-test it and pack it for Linux.

Run from any folder with the project's virtual environment (``make installer`` does
this after installing the ``installer`` extra):

    .venv/bin/python installer/build.py

Steps: PyInstaller with ``installer/digitlab.spec`` into ``dist/digitlab``. On Linux,
it then strips torch's libraries, adds the ``digitlab-gui`` link and the desktop
launcher, runs ``installer/smoke_test.py`` on the result and packs
``dist/digitlab-VERSION-linux-ARCH.tar.gz``.
"""

import argparse
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import recipe

logger = logging.getLogger("build")

INSTALLER_DIR = Path(__file__).resolve().parent
REPO_ROOT = recipe.REPO_ROOT
SPEC = INSTALLER_DIR / "digitlab.spec"
LINUX_FILES = INSTALLER_DIR / "linux"
# Niceness of PyInstaller and strip, so that a build leaves the desktop usable.
BUILD_NICENESS = 10


def read_version() -> str:
    text = (REPO_ROOT / "engine" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise SystemExit("build: no __version__ line in engine/__init__.py")
    return match.group(1)


def niced(command: list[str]) -> list[str]:
    if shutil.which("nice") is None:
        return command
    return ["nice", "-n", str(BUILD_NICENESS), *command]


def run_pyinstaller(
    dist: Path, work: Path, clean: bool, weights_dir: Path | None
) -> None:
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
    ]
    if clean:
        command.append("--clean")
    command.append(str(SPEC))
    if weights_dir is not None:
        command += ["--", "--weights-dir", str(weights_dir.resolve())]
    logger.info("Running %s", " ".join(command))
    subprocess.run(niced(command), check=True, cwd=REPO_ROOT)


def strip_torch_libraries(bundle: Path) -> None:
    """Remove symbol tables from torch's shared libraries, which ship with them."""
    strip = shutil.which("strip")
    if strip is None:
        logger.warning(
            "No strip command found (binutils); the bundle keeps torch's symbols"
        )
        return
    libraries = sorted((bundle / "_internal" / "torch" / "lib").glob("*.so*"))
    before = sum(path.stat().st_size for path in libraries)
    for library in libraries:
        subprocess.run(niced([strip, "--strip-unneeded", str(library)]), check=True)
    after = sum(path.stat().st_size for path in libraries)
    logger.info(
        "Stripped %d torch libraries: %.0f MB -> %.0f MB",
        len(libraries),
        before / 1e6,
        after / 1e6,
    )


def add_linux_launchers(bundle: Path) -> None:
    """Add the ``digitlab-gui`` link, the desktop entry, its icon and its script."""
    link = bundle / recipe.GUI_NAME
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(recipe.CLI_NAME)
    shutil.copy2(LINUX_FILES / "digitlab.desktop", bundle / "digitlab.desktop")
    shutil.copy2(
        LINUX_FILES / "install-desktop-entry.sh", bundle / "install-desktop-entry.sh"
    )
    (bundle / "install-desktop-entry.sh").chmod(0o755)
    shutil.copy2(recipe.ICON_PNG, bundle / "digitlab.png")


def run_smoke_test(bundle: Path, max_startup_s: float) -> None:
    command = [
        sys.executable,
        str(INSTALLER_DIR / "smoke_test.py"),
        str(bundle),
        "--max-startup-s",
        str(max_startup_s),
    ]
    logger.info("Running %s", " ".join(command))
    subprocess.run(command, check=True)


def pack_tarball(bundle: Path, version: str) -> Path:
    """Pack the bundle folder as ``digitlab-VERSION-linux-ARCH/`` in a .tar.gz."""
    top = f"digitlab-{version}-linux-{platform.machine()}"
    tarball = bundle.parent / f"{top}.tar.gz"
    partial = tarball.with_name(tarball.name + ".partial")
    with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
        archive.add(bundle, arcname=top)
    os.replace(partial, tarball)
    return tarball


def folder_size(folder: Path) -> int:
    return sum(
        path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build, smoke-test and pack the Digit Lab bundle.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dist", type=Path, default=REPO_ROOT / "dist", help="output folder"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=REPO_ROOT / "build" / "pyinstaller",
        help="PyInstaller's work folder",
    )
    parser.add_argument(
        "--clean", action="store_true", help="empty PyInstaller's cache first"
    )
    parser.add_argument(
        "--weights-dir",
        type=Path,
        default=None,
        help="take lenet.safetensors and lenet.json from this folder, not weights/",
    )
    parser.add_argument(
        "--skip-build", action="store_true", help="reuse the bundle already in --dist"
    )
    parser.add_argument(
        "--skip-smoke-test", action="store_true", help="do not run the smoke test"
    )
    parser.add_argument(
        "--no-tarball", action="store_true", help="do not pack the Linux tarball"
    )
    parser.add_argument(
        "--max-startup-s",
        type=float,
        default=5.0,
        help="smoke test start-up limit in seconds (0 disables the check)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="build: %(message)s")

    version = read_version()
    bundle = args.dist / recipe.CLI_NAME
    is_linux = sys.platform.startswith("linux")
    started = time.monotonic()
    if not args.skip_build:
        run_pyinstaller(args.dist, args.work, args.clean, args.weights_dir)
        if is_linux:
            strip_torch_libraries(bundle)
            add_linux_launchers(bundle)
        logger.info("Built %s in %.0f s", bundle, time.monotonic() - started)
    if not bundle.is_dir():
        raise SystemExit(
            f"build: no bundle at {bundle}; run without --skip-build first"
        )
    logger.info("Bundle size: %.0f MB", folder_size(bundle) / 1e6)

    if not is_linux:
        # NOTE: the smoke test runs `digitlab` and `digitlab-gui` by their Linux names.
        logger.info("Not on Linux: skipping the smoke test")
    elif not args.skip_smoke_test:
        run_smoke_test(bundle, args.max_startup_s)

    if is_linux and not args.no_tarball:
        tarball = pack_tarball(bundle, version)
        logger.info("Packed %s (%.0f MB)", tarball, tarball.stat().st_size / 1e6)
        # NOTE: no AppImage: appimagetool and the AppImage runtime are not packaged
        # for Debian 12, and this build takes its tools only from package registries.
    elif not is_linux:
        logger.info(
            "Not on Linux: the bundle stays in %s unpacked (untested platform)",
            args.dist,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
