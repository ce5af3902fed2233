"""Benchmarks of instantly_nb against an emulated workspace served over real HTTP.

    python -m bench            # the default run, a few minutes
    python -m bench --quick    # a smaller, faster run
    python -m bench --full     # adds the 10,000-email end-to-end run

See ``bench/RESULTS.md`` for what is measured, why, and the numbers of a real run.
"""
