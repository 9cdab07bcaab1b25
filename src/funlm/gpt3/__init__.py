"""Chapter 1: GPT-3 and the pretrain → prompt paradigm.

- :mod:`~funlm.gpt3.corpus` — TinyWorld, the generated pretraining corpus, its character
  tokenizer, random training windows and the unigram baseline;
- :mod:`~funlm.gpt3.pretrain` — pretraining the teaching GPT and the model-size sweep;
- :mod:`~funlm.gpt3.scaling` — fitting ``L(N) = (N_c / N) ** alpha`` (Kaplan et al. 2020);
- :mod:`~funlm.gpt3.prompting` — zero-, one- and few-shot prompts (instruction, demonstrations,
  query);
- :mod:`~funlm.gpt3.fewshot` — classification by label-word log-probabilities with a shared
  prefix cache, k-shot accuracy (reused by chapters 3 and 5);
- :mod:`~funlm.gpt3.sampling` — temperature, top-k and top-p; :mod:`~funlm.gpt3.widgets` — the
  sampling explorer (also used by chapter 0);
- :mod:`~funlm.gpt3.experiment` — the headline experiment: :func:`settings` and
  :func:`run_experiment` (``python -m funlm.repro ch01``).

Importing this package is cheap; torch is imported by the submodules that need it.
"""

from funlm.gpt3.experiment import Settings, run_experiment, settings

__all__ = ["Settings", "run_experiment", "settings"]
