"""Keeps the index in step with commits. (Being written: see the search work.)"""


def init_app(app):
    pass
