"""Models used in the course: the offline small LM loader (and, later, the teaching GPT)."""
