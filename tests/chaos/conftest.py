"""Hypothesis profiles for the chaos suite.

``ci`` (the default) is derandomized: every run of CI draws the same examples, so a red build is
always reproducible and a green one is never "lucky"; there is no example database to carry
between machines, and a failure prints its blob for ``@reproduce_failure``. ``deep`` draws fresh
random examples, many more of them, and keeps failures in the local ``.hypothesis`` database so
that the next deep run replays them first:

    HYPOTHESIS_PROFILE=deep python -m pytest tests/chaos

The profile is applied to the chaos tests only (``chaos_draws.chaos_settings``), never loaded
globally, so the rest of the test suite keeps its own settings.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

from hypothesis import Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

# When a test fails, Hypothesis imports its patch writer (libcst), whose import warns about a
# deprecated mypy_extensions API; under filterwarnings=error that turns the failure report into an
# INTERNALERROR. Importing it once here, warnings ignored, keeps failures readable.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    with contextlib.suppress(ImportError):  # libcst is optional: then Hypothesis writes no patch
        import hypothesis.extra._patching  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
# No "explain" phase: it replays a failing run hundreds of times with variations to say which
# parts matter, which costs minutes per failure here; the shrunk example is recipe enough. CI
# also skips "target" (steering towards plans of several jobs): its explicit big examples cover
# those, and the seconds are better spent on fresh draws.
DEEP_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
CI_PHASES = (Phase.explicit, Phase.generate, Phase.shrink)

settings.register_profile(
    "ci",
    max_examples=50,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    phases=CI_PHASES,
)
settings.register_profile(
    "deep",
    max_examples=500,
    derandomize=False,
    database=DirectoryBasedExampleDatabase(ROOT / ".hypothesis" / "examples"),
    deadline=None,
    print_blob=True,
    phases=DEEP_PHASES,
)
