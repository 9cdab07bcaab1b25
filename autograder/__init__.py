"""Instructor tooling on top of nbgrader, in three parts by role.

- :mod:`autograder.course` — where the course is (:class:`~autograder.course.CourseLayout`:
  root, ``solutions/``, ``exercises/``, ``results/``, found through configuration) and the
  course's nbgrader configuration (``autograder/nbgrader_config.py``).
- :mod:`autograder.grading` — ``funlm-grade``: the command, the per-student worker, limits,
  submissions, the sandbox and guard kernel, the nbgrader preprocessors, the gradebook and the
  pipeline entry the tests and benches grade through.
- :mod:`autograder.authoring` — ``funlm-exercises`` (``make exercises``), nbgrader cell
  builders, the Colab setup cell, ``constraints.txt`` and the leak/drift checks.
- :mod:`autograder.benches` — ``make bench``, ``make bench-book``, ``make bench-grade`` (with
  the hostile-submission generator) and ``make gpu-check``.

Package ``__init__`` files import nothing: the guard kernel starts as
``python -m autograder.grading.guard_kernel`` inside the sandbox, before any student code.
"""
