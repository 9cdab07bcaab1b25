"""Chapter 5: prompt engineering and the promise of small LMs (SmolLM2-135M-Instruct).

- :mod:`~funlm.prompt_eng.tasks` — the shipped task sets: bilingual sentiment and 1–2-step
  arithmetic word problems;
- :mod:`~funlm.prompt_eng.templates` — prompt templates (zero-shot, few-shot, chain-of-thought)
  as chat messages;
- :mod:`~funlm.prompt_eng.extraction` — reading a label, a number or JSON from free text;
- :mod:`~funlm.prompt_eng.constrained` — constrained decoding (only allowed answers);
- :mod:`~funlm.prompt_eng.self_consistency` — the majority vote over sampled reasoning paths;
- :mod:`~funlm.prompt_eng.harness` — batched, seeded generation and one strategy run, scored;
- :mod:`~funlm.prompt_eng.specialise` — LoRA written from scratch, and fine-tuning with it;
- :mod:`~funlm.prompt_eng.experiment` — the headline experiment: :func:`settings` and
  :func:`run_experiment` (``python -m funlm.repro ch05``), with its steps (:func:`run_sweep`,
  :func:`korean_check`, :func:`specialise`) for the book's pages;
- :mod:`~funlm.prompt_eng.playground` — the chapter's interactive prompt playground.
"""

from funlm.prompt_eng.experiment import Settings, run_experiment, settings

__all__ = ["Settings", "run_experiment", "settings"]
