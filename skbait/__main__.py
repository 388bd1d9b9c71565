"""``python -m skbait``: the same as the ``skbait`` command."""

from skbait._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
