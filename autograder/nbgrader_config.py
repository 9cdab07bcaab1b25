# nbgrader configuration for the FunLM course (the instructor's course directory is the repo).
#
# `solutions/` is nbgrader's source directory and `exercises/` its release directory, so the
# plain nbgrader commands work from the repository root, e.g.
#     nbgrader generate_assignment ch00_orientation --config autograder/nbgrader_config.py
# This file also marks the course root for the course's own tools (autograder.course.CourseLayout
# reads the two folder names from it). Those tools (`make exercises`, `funlm-grade`, the tests)
# load it and override only the paths and the gradebook location.

from autograder.grading.limits import DEFAULT_LIMITS

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "funlm"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The instructor's gradebook lives outside version control (see .gitignore).
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# What a student sees where the solution was removed.
c.ClearSolutions.code_stub = {
    "python": "# 여기에 코드를 작성하세요 (YOUR CODE HERE)\nraise NotImplementedError()"
}
c.ClearSolutions.text_stub = "여기에 답을 작성하세요 (YOUR ANSWER HERE)"

# Model loads and small training runs happen in some cells; the grade profile keeps each well
# under this limit (the whole notebook has a 90 s budget). The limits' one source is
# autograder/grading/limits.py (funlm-grade uses the same defaults).
c.Execute.timeout = DEFAULT_LIMITS.cell_timeout
c.Execute.interrupt_on_timeout = True
# Cap a runaway cell's output so one print loop cannot blow up the gradebook or feedback.
c.LimitOutput.max_lines = DEFAULT_LIMITS.output_lines
c.LimitOutput.max_traceback = DEFAULT_LIMITS.traceback_lines
