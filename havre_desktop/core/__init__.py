"""Qt-free core: local encrypted store, domain, repositories, search, clocks, audit.

Nothing in this package imports Qt, so scripts, tests and the server can use it
without a QApplication.
"""
