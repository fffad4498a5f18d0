"""Running Python as the serving image does: with torch unimportable."""

from __future__ import annotations

import subprocess
import sys


def run_without_torch(code: str) -> None:
    """Run `code` in a fresh interpreter where `import torch` fails; fail the test with its stderr."""
    script = "import sys\nsys.modules['torch'] = None\n" + code
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
