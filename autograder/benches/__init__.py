"""Measurements, not tests: ``make bench`` (:mod:`~autograder.benches.solutions`),
``make bench-book`` (:mod:`~autograder.benches.book`), ``make bench-grade``
(:mod:`~autograder.benches.grading`, with the hostile-submission generator
:mod:`~autograder.benches.hostile`) and ``make gpu-check``
(:mod:`~autograder.benches.gpu_check`)."""
