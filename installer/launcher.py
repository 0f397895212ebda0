"""Entry script of the packaged Digit Lab: the desktop app or the `digitlab` CLI.

The executable's name picks the program. Started as ``digitlab-gui``, it opens the
app and takes the options of ``digitlab-gui``. Under any other name it runs the
``digitlab`` command line. On Windows and macOS ``digitlab-gui`` is a windowed
executable of its own. On Linux it is a symbolic link, so one Python archive serves
both programs.
"""

import multiprocessing
import os
import sys
from pathlib import Path

GUI_NAME = "digitlab-gui"


def wants_gui(argv0: str) -> bool:
    """Tell whether the executable started as ``argv0`` is the app launcher."""
    return Path(argv0).stem.lower() == GUI_NAME


def main() -> int:
    # A windowed executable on Windows has no console, so sys.stdout and sys.stderr
    # are None, and a print or a logging handler would fail on them.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")

    if wants_gui(sys.argv[0]):
        from desktop.app import main as gui_main

        return gui_main(sys.argv[1:])

    from engine.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    # Child processes that multiprocessing spawns (the default on Windows and macOS)
    # start this executable again; this call runs their work instead of main().
    multiprocessing.freeze_support()
    sys.exit(main())
