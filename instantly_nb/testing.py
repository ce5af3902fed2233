"""What tests and benchmarks use: clocks to run in virtual time, and the emulated workspace.

from instantly_nb.testing import VirtualClock, demo
client = demo(2000, clock=VirtualClock())   # a ten-minute run takes no time at all
"""

from ._clock import Clock, ConcurrentClock, SystemClock, VirtualClock
from ._demo import DEMO_BASE_URL, DemoInstantly, DemoWorkspaces, demo

__all__ = [
    "DEMO_BASE_URL",
    "Clock",
    "ConcurrentClock",
    "DemoInstantly",
    "DemoWorkspaces",
    "SystemClock",
    "VirtualClock",
    "demo",
]
