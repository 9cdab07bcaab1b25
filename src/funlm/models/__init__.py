"""The course's models: the teaching GPT (``gpt``) and the offline SmolLM2 loader (``small_lm``)."""
