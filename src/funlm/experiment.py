"""The one shape of a chapter's headline experiment: ``settings(profile)`` and ``run_experiment``.

Every chapter package (``funlm.gpt3``, ``funlm.rlhf``, ``funlm.icl``, ``funlm.double_descent``,
``funlm.prompt_eng``, ``funlm.agents``; the map is in :mod:`funlm`) exposes

- ``settings(profile) -> Settings``: a frozen dataclass derived from :class:`ExperimentSettings`
  that holds every per-profile size of the chapter's headline experiment, plus the profile's
  name and device; notebooks, pages and the reproduction read their sizes from it;
- ``run_experiment(settings) -> dict``: runs that experiment and returns what it measured
  (JSON-serialisable; the numbers the chapter's issue names, its ``"intervals"`` and the
  curves the book draws).

``python -m funlm.repro chNN`` (:mod:`funlm.repro`) is a thin wrapper over the two that adds
timing and writes the record the book quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["ExperimentSettings"]

# Fields of every chapter's settings that say where it runs rather than how big it is.
RUN_FIELDS = ("profile", "device")


@dataclass(frozen=True)
class ExperimentSettings:
    """Base of every chapter's settings: the profile they were sized for and its device."""

    profile: str  # "cpu", "gpu" or "grade" (see funlm.profile)
    device: str  # where the experiment runs, e.g. "cpu" or "cuda"

    def sizes(self) -> dict[str, Any]:
        """Every size (all fields but ``profile`` and ``device``), in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in RUN_FIELDS}
