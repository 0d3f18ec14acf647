"""CodeBot's Telegram ChatOps front end: `python -m bot` (see bot.cli for the options)."""
