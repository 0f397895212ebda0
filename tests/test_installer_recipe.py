"""Fast checks of the installer recipe; none of them runs PyInstaller."""

import ast
import configparser
import importlib
import struct
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTALLER_DIR = REPO_ROOT / "installer"
SPEC = INSTALLER_DIR / "digitlab.spec"


@pytest.fixture()
def installer_modules(monkeypatch):
    """Import the installer modules the way the spec and build.py do.

    Yields (recipe, build, launcher, smoke_test). The names are dropped from
    sys.modules before and after, because ``build`` is also the name of the
    PyInstaller work folder at the repository root.
    """
    names = ("recipe", "build", "launcher", "smoke_test")
    for name in names:
        sys.modules.pop(name, None)
    monkeypatch.syspath_prepend(str(INSTALLER_DIR))
    yield tuple(importlib.import_module(name) for name in names)
    for name in names:
        sys.modules.pop(name, None)


def spec_calls() -> dict[str, list[ast.Call]]:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    calls: dict[str, list[ast.Call]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            calls.setdefault(node.func.id, []).append(node)
    return calls


def keyword_source(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return ast.unparse(keyword.value)
    return None


def test_spec_builds_every_target():
    calls = spec_calls()
    for target in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"):
        assert target in calls, f"the spec never calls {target}"


def test_spec_uses_recipe_lists():
    analysis = spec_calls()["Analysis"][0]
    assert keyword_source(analysis, "excludes") == "list(recipe.EXCLUDED_MODULES)"
    assert "recipe.data_files" in keyword_source(analysis, "datas")


def test_spec_gui_executable_windowed():
    executables = spec_calls()["EXE"]
    consoles = {
        keyword_source(call, "name"): keyword_source(call, "console")
        for call in executables
    }
    assert consoles == {"recipe.GUI_NAME": "False", "recipe.CLI_NAME": "True"}


def test_spec_macos_bundle_settings():
    bundle = spec_calls()["BUNDLE"][0]
    assert keyword_source(bundle, "bundle_identifier") == "recipe.BUNDLE_IDENTIFIER"
    assert keyword_source(bundle, "icon") == "str(recipe.ICON_ICNS)"


def test_recipe_excludes_unused_parts(installer_modules):
    recipe = installer_modules[0]
    for module in (
        "PySide6.QtNetwork",
        "PySide6.QtQml",
        "PySide6.QtQuick",
        "pytest",
        "PyInstaller",
        "torch.utils.tensorboard",
    ):
        assert module in recipe.EXCLUDED_MODULES


def test_recipe_excludes_nothing_imported(installer_modules):
    recipe = installer_modules[0]
    excluded = set(recipe.EXCLUDED_MODULES)
    for package in ("engine", "desktop"):
        for source in (REPO_ROOT / package).rglob("*.py"):
            tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif (
                    isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                ):
                    names = [node.module] + [
                        f"{node.module}.{alias.name}" for alias in node.names
                    ]
                else:
                    continue
                for name in names:
                    parts = name.split(".")
                    prefixes = {".".join(parts[: end + 1]) for end in range(len(parts))}
                    assert not prefixes & excluded, (
                        f"{source.name} imports {name}, which the bundle excludes"
                    )


def test_recipe_data_files_exist(installer_modules):
    recipe = installer_modules[0]
    assert recipe.missing_data_files() == []


def test_recipe_data_files_destinations(installer_modules):
    recipe = installer_modules[0]
    destinations = {
        Path(source).name: destination for source, destination in recipe.DATA_FILES
    }
    assert destinations["lenet.safetensors"] == "weights"
    assert destinations["lenet.json"] == "weights"
    assert destinations["t10k-images-idx3-ubyte.gz"] == "resources/sample"


def test_recipe_data_files_weights_dir(installer_modules, tmp_path):
    recipe = installer_modules[0]
    for name in ("lenet.safetensors", "lenet.json"):
        (tmp_path / name).write_bytes(b"")
    pairs = recipe.data_files(weights_dir=tmp_path)
    weights = [source for source, destination in pairs if destination == "weights"]
    assert sorted(weights) == [
        str(tmp_path / "lenet.json"),
        str(tmp_path / "lenet.safetensors"),
    ]


def test_recipe_data_files_missing(installer_modules, tmp_path):
    recipe = installer_modules[0]
    with pytest.raises(FileNotFoundError, match="lenet.safetensors"):
        recipe.data_files(weights_dir=tmp_path)


@pytest.mark.parametrize(
    ("destination", "dropped"),
    [
        ("torch/test/test_jit", True),
        ("torch/bin/protoc", True),
        ("torch/bin/torch_shm_manager", False),
        ("torch/include/ATen/Tensor.h", True),
        ("torch/lib/libtorchbind_test.so", True),
        ("torch/lib/libtorch_cpu.so", False),
        ("torch/_inductor/codegen/cpp_prefix.h", True),
        ("PySide6/Qt/translations/qtbase_de.qm", True),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", True),
        ("libQt6EglFSDeviceIntegration.so.6", True),
        ("libQt6Gui.so.6", False),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", False),
        ("resources/sample/t10k-images-idx3-ubyte.gz", False),
        ("weights/lenet.safetensors", False),
        ("torch\\test\\test_api", True),
    ],
)
def test_recipe_is_dropped(installer_modules, destination, dropped):
    recipe = installer_modules[0]
    assert recipe.is_dropped(destination) is dropped


def test_recipe_required_files_kept(installer_modules):
    recipe = installer_modules[0]
    assert [path for path in recipe.REQUIRED_FILES if recipe.is_dropped(path)] == []


def test_recipe_gpu_libraries(installer_modules):
    recipe = installer_modules[0]
    found = recipe.gpu_libraries(
        [
            "torch/lib/libtorch_cpu.so",
            "nvidia/cublas/lib/libcublas.so.12",
            "torch/lib/libtorch_cuda.so",
        ]
    )
    assert found == ["nvidia/cublas/lib/libcublas.so.12", "torch/lib/libtorch_cuda.so"]


@pytest.mark.parametrize(
    ("argv0", "gui"),
    [
        ("digitlab-gui", True),
        ("/opt/digitlab/digitlab-gui", True),
        ("C:\\Digit Lab\\digitlab-gui.exe", True),
        ("digitlab", False),
        ("digitlab.exe", False),
    ],
)
def test_launcher_wants_gui(installer_modules, argv0, gui):
    launcher = installer_modules[2]
    assert launcher.wants_gui(argv0.replace("\\", "/")) is gui


def test_icon_png_header(installer_modules):
    recipe = installer_modules[0]
    data = recipe.ICON_PNG.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (256, 256)


def test_icon_ico_sizes(installer_modules):
    recipe = installer_modules[0]
    data = recipe.ICON_ICO.read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    edges = {data[6 + 16 * index] or 256 for index in range(count)}
    assert {16, 32, 48, 256} <= edges


def test_icon_icns_length(installer_modules):
    recipe = installer_modules[0]
    data = recipe.ICON_ICNS.read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)


def test_desktop_entry_keys():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(INSTALLER_DIR / "linux" / "digitlab.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Icon"] == "digitlab"
    assert entry["Terminal"] == "false"
    assert "digitlab-gui" in entry["Exec"]


def test_build_tarball_keeps_links(installer_modules, tmp_path):
    build = installer_modules[1]
    bundle = tmp_path / "digitlab"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "digitlab").write_text("#!/bin/sh\n")
    (bundle / "digitlab-gui").symlink_to("digitlab")
    tarball = build.pack_tarball(bundle, "9.9")
    assert tarball.name.startswith("digitlab-9.9-linux-")
    with tarfile.open(tarball) as archive:
        link = next(
            member
            for member in archive.getmembers()
            if member.name.endswith("/digitlab-gui")
        )
        assert link.issym()
        assert link.linkname == "digitlab"
    assert not list(tmp_path.glob("*.partial"))


def test_smoke_page_layout(installer_modules):
    smoke_test = installer_modules[3]
    labels = np.repeat(np.arange(10), 3)
    images = np.zeros((len(labels), 28, 28), dtype=np.uint8)
    images[:, 8:20, 12:16] = 255
    first_choice = {int(np.flatnonzero(labels == digit)[0]) for digit in range(10)}
    page = smoke_test.compose_page(images, labels, excluded=first_choice)
    ink_rows = np.flatnonzero((page < 128).any(axis=1))
    assert page.dtype == np.uint8
    assert page[0, 0] == 255
    assert ink_rows.size > 0
    # Two lines of ink with white paper between them.
    gaps = np.flatnonzero(np.diff(ink_rows) > 1)
    assert len(gaps) == len(smoke_test.PAGE_LINES) - 1


def test_makefile_installer_target():
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\ninstaller:", 1)[1].split("\n\n", 1)[0]
    assert "installer/build.py" in target


def test_recipe_package_modules(installer_modules):
    recipe = installer_modules[0]
    modules = recipe.package_modules()
    for name in (
        "engine",
        "engine.cli",
        "engine.commands.read",
        "desktop",
        "desktop.app",
    ):
        assert name in modules
    assert not [name for name in modules if name.endswith("__init__")]
