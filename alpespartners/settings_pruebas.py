"""Settings of the test suite and the type checker: `alpespartners.settings` with the
development defaults.

`DEBUG` is off unless the environment turns it on, and with it off the dev-only `SECRET_KEY`
and `IP_HASH_SALT` stop the process. The suite runs with DEBUG on at import time (pytest-django
then switches it off while tests run, as production runs), unless the environment says
otherwise. Tests that check production behaviour start subprocesses with their own
environment and `DJANGO_SETTINGS_MODULE=alpespartners.settings`.
"""

import os

os.environ.setdefault("DEBUG", "true")

from alpespartners.settings import *  # noqa: F403
