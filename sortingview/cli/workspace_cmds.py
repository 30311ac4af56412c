"""(commands registered on the main group; filled in by the issue that owns them)"""
