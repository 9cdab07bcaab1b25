"""FunLM course support package.

Importing ``funlm`` is cheap: it loads no model, touches no GPU and starts no training.
Heavy modules (torch, transformers) are imported lazily by the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from funlm.profile import PROFILES, Profile, ProfileError, profile, seed_everything

__all__ = [
    "PROFILES",
    "Profile",
    "ProfileError",
    "load_small_lm",
    "profile",
    "seed_everything",
]
__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from funlm.models.small_lm import load_small_lm


def __getattr__(name: str) -> Any:
    # Lazy attribute so that `import funlm` does not import torch/transformers.
    if name == "load_small_lm":
        from funlm.models.small_lm import load_small_lm

        return load_small_lm
    raise AttributeError(f"module 'funlm' has no attribute {name!r}")
