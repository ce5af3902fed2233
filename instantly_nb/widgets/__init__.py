"""Jupyter widgets for bulk warmup changes: ``WarmupPanel`` and a live ``JobProgress``.

    from instantly_nb.widgets import WarmupPanel
    WarmupPanel(instantly_nb.demo())       # or WarmupPanel(client), or WarmupPanel.from_key()
    WarmupPanel(fleet)                     # several workspaces: nb.Workspaces, demo(workspaces=3)

Imported only on request (``import instantly_nb`` does not load ipywidgets). Work runs as asyncio
tasks on the kernel's loop, so other cells keep running while jobs progress. The panel's tables
(preview, pick list, results) are itables' ``ITable`` widgets: sort, search, select, copy, CSV.
"""

try:
    import ipywidgets as _ipywidgets  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "instantly_nb.widgets needs ipywidgets 8: pip install 'ipywidgets>=8.1' "
        "(and, for JupyterLab, restart the server after installing)"
    ) from exc
try:
    import itables.widget as _itables  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "instantly_nb.widgets needs the itables table widget: pip install 'itables[widget]>=2.9' "
        "(and, for JupyterLab, restart the server after installing)"
    ) from exc

from .panel import WarmupPanel
from .progress import JobProgress

__all__ = ["JobProgress", "WarmupPanel"]
