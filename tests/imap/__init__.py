"""IMAP tests against a private Dovecot (a package, so that its conftest and modules never shadow tests/conftest.py)."""
