"""Command-line commands: `flask users …`, `flask seed …`, `flask search …`."""


def init_app(app):
    pass
