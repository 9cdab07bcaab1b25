"""The nbgrader preprocessor that gives a test cell its points only with the guard's evidence.

:class:`VerifyEvidence` follows :class:`autograder.grading.execute.SandboxedExecute` in the
autograde chain. A test cell keeps its outputs (and so its points, which nbgrader's
``SaveAutoGrades`` scores afterwards as usual) only when its output carries the HMAC evidence
that :mod:`autograder.grading.guard_kernel` signs for this run with the key
``SandboxedExecute`` handed over in ``resources``; otherwise the cell gets an integrity error
and the grading run a note.
"""

from __future__ import annotations

import hmac
import re

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading import guard_kernel
from autograder.grading.run_state import EVIDENCE_KEY, add_note

EVIDENCE_RE = re.compile(
    r"^" + re.escape(guard_kernel.EVIDENCE_PREFIX) + r" (\S+) (\S+) ([0-9a-f]{64})\n?", re.M
)


class VerifyEvidence(NbGraderPreprocessor):
    """A test cell keeps its points only with valid evidence that its real code ran and passed."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources.get(EVIDENCE_KEY)
        if info is None:
            raise RuntimeError("VerifyEvidence must follow SandboxedExecute")
        key: bytes = info["key"]
        for index, (grade_id, nonce) in info["nonces"].items():
            cell = nb.cells[index]
            valid = False
            kept = []
            for output in cell.get("outputs", []):
                if output.output_type == "stream":
                    text = output.text
                    for match in EVIDENCE_RE.finditer(text):
                        gid, got_nonce, mac = match.groups()
                        expected = guard_kernel.evidence(key, grade_id, nonce)
                        if (
                            gid == grade_id
                            and got_nonce == nonce
                            and hmac.compare_digest(mac, expected)
                        ):
                            valid = True
                    output.text = EVIDENCE_RE.sub("", text)
                    if output.text:
                        kept.append(output)
                elif output.output_type == "error":
                    kept.append(output)
                # execute_result / display_data in a test cell could claim partial credit:
                # the real test code never produces them, so they are dropped.
            for output in kept:  # the guard's frames say nothing to a student: keep the hint
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
            has_error = any(o.output_type == "error" for o in kept)
            if not valid and not has_error:
                kept.append(
                    nbformat.v4.new_output(
                        "error",
                        ename="GraderIntegrityError",
                        evalue="채점기: 이 테스트가 실제로 실행되어 통과했다는 증거가 없습니다.",
                        traceback=[
                            "GraderIntegrityError: 테스트 셀이 원래 코드대로 실행되지 않았습니다 "
                            "(the test cell did not run as written)."
                        ],
                    )
                )
                add_note(resources, f"{grade_id}: no evidence that the test ran")
            if valid and has_error:
                valid = False
            cell.outputs = kept
        return nb, resources


__all__ = ["EVIDENCE_RE", "VerifyEvidence"]
