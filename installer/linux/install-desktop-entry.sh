#!/bin/sh
# Add Digit Lab to the current user's applications menu, pointing at this folder.
# No root needed: it writes only under $XDG_DATA_HOME (default ~/.local/share).
# Usage: ./install-desktop-entry.sh [--remove]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
entry="$data/applications/digitlab.desktop"
icon="$data/icons/hicolor/256x256/apps/digitlab.png"

if [ "${1:-}" = "--remove" ]; then
    rm -f "$entry" "$icon"
    echo "Removed $entry and $icon"
    exit 0
fi

case "$here" in
*[\"\`\$\\%]*)
    echo "install-desktop-entry: move the folder to a path without \" \` \$ \\ or %: $here" >&2
    exit 1
    ;;
esac

mkdir -p "$(dirname "$entry")" "$(dirname "$icon")"
cp "$here/digitlab.png" "$icon"
# The menu entry gets the absolute path, in place of the %k form that only works
# for the copy inside this folder.
awk -v exec_line="Exec=\"$here/digitlab-gui\" %F" -v try_line="TryExec=$here/digitlab-gui" '
    /^#/ { next }
    /^Exec=/ { print try_line; print exec_line; next }
    { print }
' "$here/digitlab.desktop" >"$entry"
chmod 644 "$entry"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
echo "Added Digit Lab to the applications menu ($entry)"
