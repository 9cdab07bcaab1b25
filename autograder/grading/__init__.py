"""``funlm-grade``: grade a class's notebooks sandboxed, in parallel, through nbgrader.

Modules, in the order a submission meets them: :mod:`~autograder.grading.cli` (the command:
arguments, checks, the batch, ``grades.csv``), :mod:`~autograder.grading.limits` (the one
source of the default limits), :mod:`~autograder.grading.settings` (what a worker process
receives), :mod:`~autograder.grading.submissions` (collect, check, re-lay),
:mod:`~autograder.grading.worker` (one student: nbgrader's autograde and feedback),
:mod:`~autograder.grading.run_state` (what the nbgrader preprocessors of one grading share),
:mod:`~autograder.grading.execute` (the sandboxed kernel run),
:mod:`~autograder.grading.sandbox` and :mod:`~autograder.grading.guard_kernel` (bubblewrap and
the test guard inside it), :mod:`~autograder.grading.evidence` (points only with the guard's
evidence), :mod:`~autograder.grading.feedback` (hidden tests stay hidden),
:mod:`~autograder.grading.gradebook` (lock, scores) and :mod:`~autograder.grading.pipeline`
(grade notebooks through the command from Python: tests, benches).
"""
