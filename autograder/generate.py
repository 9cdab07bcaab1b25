"""``python -m autograder.generate``: another name of ``funlm-exercises`` / ``make exercises``.

The implementation is :mod:`autograder.authoring.generate`; this name stays because the
course's contributor notes have always used it.
"""

from autograder.authoring.generate import main

if __name__ == "__main__":
    raise SystemExit(main())
