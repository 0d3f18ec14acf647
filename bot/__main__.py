"""`python -m bot`: run the Telegram front end (or `--console` to try it in a terminal)."""
from __future__ import annotations

import sys

from bot.cli import main

sys.exit(main())
