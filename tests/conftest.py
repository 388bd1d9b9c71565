"""Shared pytest configuration: hypothesis profiles for the robustness suite.

Select a profile with the ``HYPOTHESIS_PROFILE`` environment variable:

- ``ci`` (default): a fixed, derandomized set of examples per property, no
  deadline (the CI machines are shared and slow), so that every run tests the
  same cases and a failure reproduces exactly.
- ``dev``: many more random examples, for hunting bugs locally.
- ``quick``: a handful of examples, for editing the tests themselves.

Run ``pytest --hypothesis-show-statistics`` to see how many cases each
property generated.
"""

import os

from hypothesis import HealthCheck, Phase, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=_SLOW_OK,
    # No "explain" phase: it reruns a failing case dozens of times.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
settings.register_profile(
    "dev",
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_OK,
)
settings.register_profile(
    "quick",
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=_SLOW_OK,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
