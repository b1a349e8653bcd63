"""The only module that imports Whoosh. (Being written: see the search work.)"""
