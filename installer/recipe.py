"""Contents of the Digit Lab bundle: data files, module excludes and file filters.

``digitlab.spec`` imports this module, and the recipe tests import it without
PyInstaller, so every choice about the bundle's content can be checked in
milliseconds. Paths are relative to the repository root; destinations are relative
to the bundle's ``_internal`` folder (``sys._MEIPASS``).
"""

from fnmatch import fnmatchcase
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

APP_NAME = "Digit Lab"
CLI_NAME = "digitlab"
GUI_NAME = "digitlab-gui"
BUNDLE_IDENTIFIER = "org.digitlab.DigitLab"
ICON_PNG = REPO_ROOT / "resources" / "icons" / "digitlab.png"
ICON_ICO = REPO_ROOT / "resources" / "icons" / "digitlab.ico"
ICON_ICNS = REPO_ROOT / "resources" / "icons" / "digitlab.icns"
ENTRY_SCRIPT = REPO_ROOT / "installer" / "launcher.py"

# engine/datasets.py and engine/weights.py find these folders next to the `engine`
# package, which in the bundle is sys._MEIPASS, so they go to the same names there.
DATA_FILES = (
    ("resources/sample/train-images-idx3-ubyte.gz", "resources/sample"),
    ("resources/sample/train-labels-idx1-ubyte.gz", "resources/sample"),
    ("resources/sample/t10k-images-idx3-ubyte.gz", "resources/sample"),
    ("resources/sample/t10k-labels-idx1-ubyte.gz", "resources/sample"),
    ("weights/lenet.safetensors", "weights"),
    ("weights/lenet.json", "weights"),
    ("resources/icons/digitlab.png", "resources/icons"),
)

# Modules that something in the import graph mentions but the app never loads. None
# of them was in sys.modules after importing engine and desktop, training two batches,
# evaluating and creating the main window. The smoke test runs the built bundle.
EXCLUDED_MODULES = (
    # Development tools that happen to sit in the build environment.
    "PyInstaller",
    "_pytest",
    "pytest",
    "pytestqt",
    "pip",
    "setuptools",
    "pkg_resources",
    "pygments",
    # Optional extras of torch and numpy: compilation (jinja2, networkx), remote file
    # systems (fsspec), plotting and notebooks.
    "jinja2",
    "networkx",
    "fsspec",
    "IPython",
    "matplotlib",
    "pandas",
    "scipy",
    "tensorboard",
    "torch.utils.tensorboard",
    "tkinter",
    "_tkinter",
    # Qt modules the app does not use. PySide6-Essentials has no QtWebEngine or Qt3D.
    "PySide6.QtNetwork",
    "PySide6.QtDBus",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtSql",
    "PySide6.QtPrintSupport",
    "PySide6.QtConcurrent",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtXml",
    # Other Qt bindings that pyqtgraph could pick; only PySide6 is installed for it.
    "PyQt5",
    "PyQt6",
    "PySide2",
)

# Collected files to drop, as glob patterns on the destination path. A file that
# matches one of KEPT_FILES is kept.
DROPPED_FILES = (
    # C++ unit-test binaries, their test libraries and the developer tools of torch.
    "torch/test/*",
    "torch/bin/*",
    "torch/lib/libjitbackend_test.so",
    "torch/lib/libtorchbind_test.so",
    "torch/lib/libaoti_custom_ops.so",
    "torch/lib/libbackend_with_compiler.so",
    # Headers and static libraries for building extensions: no compiler runs here.
    "torch/include/*",
    "torch/share/*",
    "*.a",
    "*.lib",
    "*.h",
    "*.hpp",
    "*.cuh",
    "*.cpp",
    "*.pyi",
    # Qt platform plugins for embedded boards and remote screens, and EGL device
    # integrations that only the eglfs plugin uses.
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    # PyInstaller also links each Qt library into the top folder, hence two patterns.
    "PySide6/Qt/lib/libQt6EglFsKmsSupport.so*",
    "PySide6/Qt/lib/libQt6EglFSDeviceIntegration.so*",
    "libQt6EglFsKmsSupport.so*",
    "libQt6EglFSDeviceIntegration.so*",
    # The PDF image plugin loads QtPdf; photos are JPEG, PNG, TIFF, WebP and the like.
    "PySide6/Qt/plugins/imageformats/libqpdf.so",
    "PySide6/Qt/lib/libQt6Pdf.so*",
    "libQt6Pdf.so*",
    # The app is in English and installs no QTranslator, so Qt's own catalogs go unread.
    "PySide6/Qt/translations/*",
)
KEPT_FILES = (
    # torch's shared-memory tensors (multiprocessing with the file_system strategy)
    # start this helper.
    "torch/bin/torch_shm_manager",
)

# Files that must reach the bundle; the build fails early when one is dropped.
REQUIRED_FILES = (
    "torch/lib/libtorch_cpu.so",
    "torch/lib/libc10.so",
    "torch/lib/libtorch_python.so",
    "PySide6/Qt/plugins/platforms/libqxcb.so",
    "PySide6/Qt/plugins/platforms/libqoffscreen.so",
)

# File name parts of GPU runtimes. A CPU build of torch has none, and the build
# stops when one shows up, because a CUDA build of torch adds gigabytes.
GPU_LIBRARY_MARKERS = (
    "libcuda",
    "libcudart",
    "libcublas",
    "libcudnn",
    "libnccl",
    "libnvrtc",
    "libtorch_cuda",
    "nvidia/",
)


def package_modules(
    root: Path = REPO_ROOT, packages: tuple[str, ...] = ("engine", "desktop")
) -> list[str]:
    """Return the dotted names of every module in ``packages``, for hiddenimports.

    PyInstaller follows only static imports. The main window imports some tabs with
    importlib by name, so every project module is listed to be collected.
    """
    names = []
    for package in packages:
        for source in sorted((root / package).rglob("*.py")):
            parts = source.relative_to(root).with_suffix("").parts
            if parts[-1] == "__main__":
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(parts))
    return names


def missing_data_files(root: Path = REPO_ROOT) -> list[str]:
    """Return the DATA_FILES sources that do not exist under ``root``."""
    return [source for source, _ in DATA_FILES if not (root / source).is_file()]


def data_files(
    root: Path = REPO_ROOT, weights_dir: Path | None = None
) -> list[tuple[str, str]]:
    """Return DATA_FILES as (absolute source, destination folder) pairs for Analysis.

    Args:
        root: repository root that the DATA_FILES sources are relative to.
        weights_dir: folder to take ``lenet.safetensors`` and ``lenet.json`` from
            in place of ``weights/``, to bundle weights trained elsewhere.

    Raises:
        FileNotFoundError: a listed file is missing, such as the shipped weights
            before training has produced them.
    """
    pairs = []
    for source, destination in DATA_FILES:
        path = root / source
        if weights_dir is not None and destination == "weights":
            path = Path(weights_dir) / Path(source).name
        pairs.append((path, destination))
    missing = [str(path) for path, _ in pairs if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"Files the bundle needs are missing: {', '.join(missing)}. "
            "Create them (`digitlab train` makes weights) and build again."
        )
    return [(str(path), destination) for path, destination in pairs]


def is_dropped(destination: str) -> bool:
    """Tell whether the collected file at ``destination`` stays out of the bundle."""
    path = destination.replace("\\", "/")
    if any(fnmatchcase(path, pattern) for pattern in KEPT_FILES):
        return False
    return any(fnmatchcase(path, pattern) for pattern in DROPPED_FILES)


def gpu_libraries(destinations: list[str]) -> list[str]:
    """Return the destinations that look like CUDA or other GPU runtime libraries."""
    return [
        path
        for path in destinations
        if any(
            marker in path.replace("\\", "/").lower() for marker in GPU_LIBRARY_MARKERS
        )
    ]
