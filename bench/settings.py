"""Settings of the benchmarked app: the production settings plus the B0 baseline views."""

from alpespartners.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
