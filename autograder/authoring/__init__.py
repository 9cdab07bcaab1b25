"""Writing the course: ``funlm-exercises`` (``make exercises``), nbgrader cell builders, the
Colab setup cell, ``constraints.txt`` / ``environment.yml`` and the checks that keep the
released exercises honest."""
