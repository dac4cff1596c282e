"""The ``callaudit`` command line (:mod:`cli.main`)."""
