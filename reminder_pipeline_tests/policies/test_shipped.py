"""The policies shipped in ``reminder_pipeline/policies/``: each one loads, and the lean one is the default one
without its courtesy notes (so that a change to the default reaches it too, or fails here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reminder_pipeline.config_files import DEFAULT_POLICY, load_policy
from reminder_pipeline.core.policy.config import Policy, Tone

POLICIES = DEFAULT_POLICY.parent
LEAN = POLICIES / "lean.yaml"


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_policy_loads(path: Path) -> None:
    assert load_policy(path).ladders


def _without_courtesy(policy: Policy) -> Policy:
    ladders = {
        name: ladder.model_copy(update={"steps": [s for s in ladder.steps if s.tone is not Tone.COURTESY]})
        for name, ladder in policy.ladders.items()
    }
    return policy.model_copy(update={"ladders": ladders, "version": "compared"})


def test_the_lean_policy_is_the_default_without_its_courtesy_notes() -> None:
    default, lean = load_policy(None), load_policy(LEAN)
    assert [s for ladder in lean.ladders.values() for s in ladder.steps if s.offset_days < 0] == []
    assert [s for ladder in default.ladders.values() for s in ladder.steps if s.tone is Tone.COURTESY], (
        "the default sends courtesy notes"
    )
    assert lean.version != default.version
    assert _without_courtesy(lean) == _without_courtesy(default)
