"""Chapter 3: in-context learning (ICL).

- :mod:`funlm.icl.demos` — what in the demonstrations matters (Min et al. 2022): gold vs random
  labels with SmolLM2, scored by label-word log-probabilities (:mod:`funlm.gpt3.fewshot`).
- :mod:`funlm.icl.regression` — linear regression in context (Garg et al. 2022): the prompt
  sampler, the least-squares / nearest-neighbour / averaging baselines and the error per k.
- :mod:`funlm.icl.regression_model` — a small GPT that reads (x, y) vectors and is trained on
  those prompts.
- :mod:`funlm.icl.induction` — induction heads (Olsson et al. 2022): repeated random sequences,
  attention-only transformers, induction and previous-token scores, the phase change.
- :mod:`funlm.icl.experiment` — the headline experiment, all three parts: :func:`settings` and
  :func:`run_experiment` (``python -m funlm.repro ch03``); :func:`induction_demo_settings`
  sizes the book's induction demo.
- :mod:`funlm.icl.plots` — the chapter's figures and the recorded cpu run.

Importing this package is cheap; torch is imported by the submodules that need it.
"""

from funlm.icl.experiment import Settings, induction_demo_settings, run_experiment, settings

__all__ = ["Settings", "induction_demo_settings", "run_experiment", "settings"]
