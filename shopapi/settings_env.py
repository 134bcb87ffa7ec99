"""The environment every settings module reads: `env` (django-environ), `BASE_DIR` and `DEBUG`.

`shopapi/settings.py` holds the core settings; each area with many of its own (`settings_*.py`)
imports these from here and is star-imported at the end of settings.py, so every variable is still
read from one environment and documented in `.env.example`.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
