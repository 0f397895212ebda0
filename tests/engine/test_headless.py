"""The engine must import and run where Qt is absent."""

import subprocess
import sys
import textwrap

from tests.engine.conftest import REPO_ROOT


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_engine_loads_no_qt():
    result = run_python(
        """
        import sys
        import engine, engine.cli
        loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))
        print(loaded)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_engine_runs_with_qt_blocked():
    # A finder that rejects Qt imports simulates a machine where PySide6 is not installed.
    result = run_python(
        """
        import sys
        class BlockQt:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'):
                    raise ImportError('Qt is blocked in this test')
        sys.meta_path.insert(0, BlockQt())
        from engine.cli import main
        sys.exit(main(['train', '--epochs', '1', '--max-batches', '2', '--out', '/dev/null/x.safetensors']))
        """
    )
    # The run gets as far as checking the output folder, which proves every engine
    # module imported without Qt.
    assert result.returncode == 1, result.stderr
    assert "Cannot save weights to /dev/null/x.safetensors" in result.stderr
