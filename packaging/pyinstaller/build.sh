#!/usr/bin/env bash
# Build the one-folder bundle: dist/lakeview/ (and dist/LakeView.app on macOS), with work files in build/.
#   packaging/pyinstaller/build.sh            # uses .venv (pip install -e '.[bundle]' first)
#   PYTHON=/path/to/python packaging/pyinstaller/build.sh
# Then check it: dist/lakeview/lakeview --self-test
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-.venv/bin/python}"
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "PyInstaller is missing: $PYTHON -m pip install -e '.[bundle]'" >&2
    exit 2
fi
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/pyinstaller/lakeview.spec
echo "built $(du -sh dist/lakeview | cut -f1) in dist/lakeview; check it with: dist/lakeview/lakeview --self-test"
