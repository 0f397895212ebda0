"""The `digitlab gui` subcommand: open the desktop app."""

import argparse

# The same names as desktop.main_window.TAB_NAMES, repeated here because the engine
# must not import the desktop package (and with it Qt) until the app is started.
TAB_NAMES = ("training", "confusion", "layers", "photo", "theory")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gui",
        help="open the desktop app",
        description="Open the Digit Lab window, optionally reading photos on start.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "photos", nargs="*", metavar="PHOTO", help="photos to read on start"
    )
    parser.add_argument(
        "--screenshot",
        metavar="FILE",
        help="save the window as a PNG once the shipped model is loaded, then exit",
    )
    parser.add_argument("--tab", choices=TAB_NAMES, help="tab to show first")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that `import engine` and every other subcommand work without Qt.
    from desktop.app import run_gui

    return run_gui(
        args.photos, screenshot=args.screenshot, tab=args.tab, verbosity=args.verbose
    )
