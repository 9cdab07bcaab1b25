"""Chapter 2: the toy review world, its judge, and the losses of SFT, reward model, DPO and RLHF."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from funlm.models.gpt import GPT, GPTConfig
from funlm.rlhf.data import (
    IGNORE,
    make_comparisons,
    make_demonstrations,
    sequence_batch,
    sft_batch,
    sft_example,
)
from funlm.rlhf.dpo import dpo_loss
from funlm.rlhf.experiment import per_instruction
from funlm.rlhf.pg import judge_fn, kl_penalized_reward, ppo_clip_loss, reinforce_loss
from funlm.rlhf.pipeline import (
    PolicySamples,
    eval_instructions,
    judged_scores,
    label_pairs,
    selection_instructions,
    split_instructions,
)
from funlm.rlhf.policy import sample_responses, sequence_logprob, token_logprobs
from funlm.rlhf.reward_model import RewardModel, hidden_states, pairwise_loss
from funlm.rlhf.world import (
    TOPICS,
    Instruction,
    all_instructions,
    format_prompt,
    generate_reviews,
    judge,
    judge_parts,
    make_tokenizer,
    parse_instruction,
    random_instruction,
    well_formed,
    write_response,
)

TOK = make_tokenizer()


@pytest.fixture
def tiny_gpt() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=TOK.vocab_size, block_size=48, n_layer=1, n_head=2, n_embd=16))


# ----------------------------------------------------------------------------- world and judge


def test_tokenizer_round_trip_on_world_text():
    rng = random.Random(0)
    for _ in range(200):
        instruction = random_instruction(rng)
        for text in (format_prompt(instruction), write_response(instruction, rng)):
            assert TOK.decode(TOK.encode(text)) == text
    text = generate_reviews(5_000)
    assert TOK.decode(TOK.encode(text)) == text
    assert TOK.vocab_size < 80
    with pytest.raises(ValueError, match="not in the review world"):
        TOK.encode("hello there")


def test_pretraining_text_has_no_instructions():
    text = generate_reviews(20_000)
    assert "q:" not in text and "write" not in text and "review" not in text


def test_judge_scores_the_requirements():
    pos_short = Instruction("positive", "soup", True)
    assert judge(pos_short, "the soup was tasty.") == pytest.approx(1.0)
    assert judge(pos_short, "the soup was tasty. i loved the soup.") == pytest.approx(0.8)
    assert judge(pos_short, "the soup was cold.") == pytest.approx(0.6)  # wrong sentiment
    assert judge(pos_short, "the cake was tasty.") == pytest.approx(0.7)  # wrong topic
    assert judge(pos_short, "the soup was tasty") == pytest.approx(0.9)  # no full stop
    assert judge(pos_short, "") == pytest.approx(0.0)
    neg_long = Instruction("negative", "room", False)
    assert judge(neg_long, "the room was dirty. i hated the room.") == pytest.approx(1.0)
    parts = judge_parts(neg_long, "the room was dirty. the cake was lovely.")
    assert parts["topic"] == pytest.approx(0.15) and parts["sentiment"] == pytest.approx(0.2)
    assert not well_formed("the soup was was tasty.")


def test_parse_instruction_inverts_text():
    for instruction in all_instructions():
        assert parse_instruction(format_prompt(instruction)) == instruction
    assert len(all_instructions()) == 48


def test_labellers_are_imperfect_but_good():
    demos = make_demonstrations(500, seed=0)
    scores = [judge(d.instruction, d.response) for d in demos]
    assert 0.8 < sum(scores) / len(scores) < 0.95
    assert 0.4 < sum(s == 1.0 for s in scores) / len(scores) < 0.7
    perfect = make_demonstrations(100, seed=0, flaw_rate=0.0)
    assert all(judge(d.instruction, d.response) == pytest.approx(1.0) for d in perfect)


def test_comparisons_prefer_the_judged_better_response():
    for c in make_comparisons(200, seed=3):
        assert judge(c.instruction, c.chosen) > judge(c.instruction, c.rejected)


# ----------------------------------------------------------------------------- SFT masking


def test_sft_example_masks_the_prompt():
    x, y = sft_example([5, 6, 7], [8, 9, 0])
    assert x == [5, 6, 7, 8, 9]
    assert y == [IGNORE, IGNORE, 8, 9, 0]


def test_sft_batch_loss_is_response_only(tiny_gpt):
    demos = make_demonstrations(4, seed=1)
    x, y = sft_batch(TOK, demos)
    logits, loss = tiny_gpt(x, y)
    # the same loss by hand: cross-entropy over positions whose target is a response token
    keep = y != IGNORE
    by_hand = F.cross_entropy(logits[keep], y[keep])
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-5)
    n_response = sum(len(TOK.encode(d.response)) + 1 for d in demos)  # + EOS
    assert int(keep.sum()) == n_response


# ----------------------------------------------------------------------------- log-probs, sampling


def test_sequence_logprob_sums_response_tokens(tiny_gpt):
    prompts = [format_prompt(Instruction("positive", "tea", True))] * 2
    ids, mask, lengths = sequence_batch(TOK, prompts, ["the tea was nice.", "i loved the tea."])
    assert mask.sum(1).tolist() == [6, 6]  # four words, the stop and EOS
    assert lengths.tolist() == [len(TOK.encode(prompts[0])) + 6] * 2
    total = sequence_logprob(tiny_gpt, ids, mask)
    logp = torch.log_softmax(tiny_gpt(ids)[0], dim=-1)
    for b in range(2):
        by_hand = sum(logp[b, t - 1, ids[b, t]] for t in range(ids.shape[1]) if mask[b, t])
        assert total[b].item() == pytest.approx(by_hand.item(), rel=1e-5)


def test_sampling_is_seeded_and_stops(tiny_gpt):
    prompts = [format_prompt(i) for i in all_instructions()[:6]]
    a = sample_responses(tiny_gpt, TOK, prompts, generator=torch.Generator().manual_seed(1))
    b = sample_responses(tiny_gpt, TOK, prompts, generator=torch.Generator().manual_seed(1))
    assert a == b
    for p, r in zip(prompts, a, strict=True):
        assert "\n" not in r
        assert len(TOK.encode(p)) + len(TOK.encode(r)) + 1 <= 48
    greedy = sample_responses(tiny_gpt, TOK, prompts[:2], temperature=0)
    assert greedy == sample_responses(tiny_gpt, TOK, prompts[:2], temperature=0)


def test_hidden_states_feed_the_lm_head(tiny_gpt):
    ids = torch.tensor([TOK.encode("the soup was tasty.\n")])
    logits = tiny_gpt(ids)[0]
    assert torch.allclose(tiny_gpt.lm_head(hidden_states(tiny_gpt, ids)), logits, atol=1e-6)


# ----------------------------------------------------------------------------- losses


def test_pairwise_loss_closed_form():
    rc, rr = torch.tensor([0.0, 2.0]), torch.tensor([0.0, 1.0])
    expected = (math.log(2) + math.log(1 + math.exp(-1))) / 2
    assert pairwise_loss(rc, rr).item() == pytest.approx(expected, rel=1e-6)


def test_reward_model_reads_last_token(tiny_gpt):
    rm = RewardModel.from_lm(tiny_gpt)
    assert rm.gpt is not tiny_gpt  # a copy: training it leaves the policy alone
    prompts = [format_prompt(Instruction("negative", "bed", False))] * 2
    ids, _, lengths = sequence_batch(TOK, prompts, ["the bed was bad.", "i hated the bed."])
    torch.nn.init.normal_(rm.head.weight)
    r = rm(ids, lengths)
    assert r.shape == (2,)
    # padding after the last token must not change the reward
    padded = torch.cat([ids, torch.zeros(2, 3, dtype=torch.long)], dim=1)
    assert torch.allclose(rm(padded, lengths), r, atol=1e-6)


@pytest.mark.parametrize("beta", [0.05, 0.1, 0.5, 2.0])
def test_dpo_loss_closed_form(beta):
    pc, pr = torch.tensor([-3.0, -5.0]), torch.tensor([-4.0, -2.0])
    rc, rr = torch.tensor([-3.5, -4.0]), torch.tensor([-3.5, -3.0])
    margins = [(-3.0 + 3.5) - (-4.0 + 3.5), (-5.0 + 4.0) - (-2.0 + 3.0)]
    expected = sum(math.log(1 + math.exp(-beta * m)) for m in margins) / 2
    assert dpo_loss(pc, pr, rc, rr, beta).item() == pytest.approx(expected, rel=1e-6)
    # at the reference policy every pair is a coin flip
    assert dpo_loss(rc, rr, rc, rr, beta).item() == pytest.approx(math.log(2), rel=1e-6)


def test_kl_penalized_reward():
    reward = torch.tensor([1.0, 0.5])
    lp = torch.tensor([[-1.0, -2.0, -9.0], [-0.5, -0.5, -0.5]])
    lr = torch.tensor([[-1.5, -2.5, -1.0], [-0.5, -1.0, -0.5]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    out = kl_penalized_reward(reward, lp, lr, mask, beta=0.1)
    assert out.tolist() == pytest.approx([1.0 - 0.1 * 1.0, 0.5 - 0.1 * 0.5])
    assert kl_penalized_reward(reward, lp, lr, mask, beta=0.0).tolist() == reward.tolist()


def test_reinforce_gradient_pushes_up_good_samples():
    logp = torch.tensor([[-1.0, -1.0], [-2.0, -1.0]], requires_grad=True)
    mask = torch.ones(2, 2)
    returns = torch.tensor([1.0, 0.0])
    reinforce_loss(logp, mask, returns).backward()
    # advantage = +0.5 / -0.5; d loss / d logp = -advantage / batch
    assert logp.grad.tolist() == [[-0.25, -0.25], [0.25, 0.25]]


def test_judge_fn_matches_judge():
    instruction = Instruction("positive", "cake", True)
    out = judge_fn([instruction, instruction], ["the cake was nice.", "the cake was bad."])
    assert out.tolist() == pytest.approx([1.0, 0.6])


def test_token_logprobs_shape(tiny_gpt):
    ids = torch.tensor([TOK.encode("the soup was tasty.\n")] * 3)
    assert token_logprobs(tiny_gpt, ids).shape == (3, ids.shape[1] - 1)


# ----------------------------------------------------------------------------- the recipe


@pytest.mark.parametrize("name", ["grade", "cpu", "gpu"])
def test_large_base_has_at_least_four_times_the_parameters(name):
    from funlm.gpt3.pretrain import make_gpt
    from funlm.profile import profile
    from funlm.rlhf.pipeline import BLOCK_SIZE, settings

    S = settings(profile(name))
    small = make_gpt(S.small, TOK.vocab_size, BLOCK_SIZE).num_params()
    large = make_gpt(S.large, TOK.vocab_size, BLOCK_SIZE).num_params()
    assert large >= 4 * small
    assert len(S.betas) >= 3 and len(S.rlhf_betas) >= 3


def test_selection_and_evaluation_instructions_are_disjoint_and_balanced():
    selection, evaluation = split_instructions()
    assert len(selection) == 12 and len(evaluation) == 36
    assert not set(selection) & set(evaluation)
    assert set(selection) | set(evaluation) == set(all_instructions())
    assert sorted(i.topic for i in selection) == sorted(TOPICS)  # every topic once
    combos = Counter((i.sentiment, i.short) for i in selection)
    assert set(combos.values()) == {3} and len(combos) == 4
    assert eval_instructions(2)[:2] == [evaluation[0]] * 2  # instruction-major repeats
    assert selection_instructions(3)[-1] == selection[-1]


def test_label_pairs_follow_the_scorer_and_drop_ties():
    instruction = Instruction("positive", "cake", True)
    good, flawed, wrong = (
        "the cake was nice.",
        "the cake was nice. i loved the cake.",
        "the cake was bad.",
    )
    samples = PolicySamples([instruction] * 3, [good, wrong, good], [flawed, good, good])
    by_judge = label_pairs(samples, judged_scores)
    assert [(c.chosen, c.rejected) for c in by_judge] == [(good, flawed), (good, wrong)]

    def contrarian(instructions, responses):  # a "reward model" that gets everything backwards
        return [-judge(i, r) for i, r in zip(instructions, responses, strict=True)]

    flipped = label_pairs(samples, contrarian)
    assert [(c.chosen, c.rejected) for c in flipped] == [(flawed, good), (wrong, good)]


def test_per_instruction_means_consecutive_repeats():
    assert per_instruction([1.0, 0.0, 0.5, 0.5, 1.0, 1.0], 2).tolist() == [0.5, 0.5, 1.0]


# ----------------------------------------------------------------------------- PPO-clip


def test_ppo_clip_loss_closed_form():
    # ratios e^0 = 1, e^0.5 ~ 1.65 (advantage +1: clipped at 1.2), e^-0.5 ~ 0.61 (advantage -1:
    # clipped at 0.8); the last token is masked out.
    logp_old = torch.zeros(2, 2)
    logp_new = torch.tensor([[0.0, 0.5], [-0.5, 3.0]])
    advantages = torch.tensor([1.0, -1.0])
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    expected = -(1.0 * 1.0 + 1.2 * 1.0 + 0.8 * -1.0) / 3
    assert ppo_clip_loss(logp_new, logp_old, advantages, mask, 0.2).item() == pytest.approx(
        expected, rel=1e-6
    )


def test_ppo_clip_loss_gradient_stops_outside_the_trust_region():
    logp_old = torch.zeros(1, 4)
    # ratios 1.5 and 0.5 with a positive advantage: the first is clipped (no gradient), the
    # second is not (min picks the unclipped, smaller term); same for a negative advantage.
    for advantage, clipped, free in ((1.0, 0, 1), (-1.0, 1, 0)):
        logp_new = torch.log(torch.tensor([[1.5, 0.5, 1.0, 1.0]])).requires_grad_(True)
        ppo_clip_loss(logp_new, logp_old, torch.tensor([advantage]), torch.ones(1, 4)).backward()
        assert logp_new.grad[0, clipped].item() == 0.0
        assert logp_new.grad[0, free].item() != 0.0
    huge = ppo_clip_loss(torch.full((1, 3), 0.7), torch.zeros(1, 3), torch.tensor([2.0]),
                         torch.ones(1, 3), clip_eps=1e9)  # fmt: skip
    assert huge.item() == pytest.approx(-2.0 * math.exp(0.7), rel=1e-6)


# ----------------------------------------------------------------------------- answer keys


def test_graded_answers_are_answer_keys():
    from funlm.answer_keys import forbid_delegation, is_answer_key
    from funlm.grading import GradingError

    keys = [format_prompt, sft_example, token_logprobs, sequence_logprob, pairwise_loss,
            kl_penalized_reward, dpo_loss, reinforce_loss, ppo_clip_loss]  # fmt: skip
    assert all(is_answer_key(k) for k in keys)
    with pytest.raises(GradingError, match="모범 답안"), forbid_delegation(dpo_loss):
        dpo_loss(*torch.zeros(4, 1), 0.1)
    # outside the tripwire the functions work as usual
    assert dpo_loss(*torch.zeros(4, 1), 0.1).item() == pytest.approx(math.log(2))


# ----------------------------------------------------------------------------- the record


def _record() -> dict:
    root = Path(__file__).resolve().parents[1]
    return json.loads((root / "results" / "repro" / "ch02-cpu.json").read_text("utf-8"))


def test_recorded_run_chooses_beta_on_held_out_instructions():
    record = _record()
    selection = record["selection"]
    evaluation_texts = {i.text for i in split_instructions()[1]}
    assert selection["n_instructions"] == 12 and record["evaluation"]["n_instructions"] == 36
    assert not set(selection["instructions"]) & evaluation_texts
    for method, grid in (("dpo", "betas"), ("dpo_rm", "betas"), ("rlhf", "rlhf_betas")):
        scores = selection["scores"][method]
        assert set(scores) == {str(b) for b in record[grid]}
        chosen = selection["chosen"][method]
        assert scores[str(chosen)] == max(scores.values())  # the best on the selection split
        assert record[f"{method}_beta"] == chosen


def test_recorded_run_holds_both_dpo_variants_rlhf_and_intervals():
    record = _record()
    for method in ("dpo", "dpo_rm", "rlhf"):
        assert f"reward_{method}" in record and f"{method}_by_beta" in record
    intervals = record["intervals"]
    for key in ("rm_accuracy", "winrate_dpo_vs_large_base", "dpo_minus_rlhf",
                "dpo_rm_minus_rlhf", "dpo_minus_dpo_rm", "dpo_minus_sft"):  # fmt: skip
        interval = intervals[key]
        assert interval["lo"] <= interval["mean"] <= interval["hi"]
        assert interval["level"] == 0.95
    assert intervals["reward_dpo"]["mean"] == pytest.approx(record["reward_dpo"], abs=1e-3)
    diff = record["reward_dpo_rm"] - record["reward_rlhf"]
    assert intervals["dpo_rm_minus_rlhf"]["mean"] == pytest.approx(diff, abs=1e-3)
    curves = record["curves"]
    assert set(curves["dpo_rm_loss"]) == {str(b) for b in record["betas"]}
    assert set(curves["rlhf"]) == {str(b) for b in record["rlhf_betas"]}


def test_page_reading_matches_the_record():
    """book/ch02_instructgpt/index.md and more.md read the record's intervals in words ("above
    zero", "contains zero", ...). If a re-run changes what the intervals say, this fails and the
    prose must be re-read against the new record."""
    record = _record()
    iv = record["intervals"]

    def contains(key: str, value: float) -> bool:
        return iv[key]["lo"] <= value <= iv[key]["hi"]

    assert iv["dpo_rm_minus_rlhf"]["lo"] > 0  # "차이의 구간이 0 위에 있습니다"
    assert iv["dpo_minus_dpo_rm"]["lo"] > 0  # judge labels beat RM labels
    assert iv["dpo_minus_sft"]["lo"] > 0 and iv["sft_minus_base"]["lo"] > 0
    assert 0 < iv["dpo_rm_minus_sft"]["lo"] < 0.01  # "구간의 아래 끝이 0에 가깝습니다"
    assert contains("rlhf_minus_sft", 0.0)  # "RLHF는 SFT와 뚜렷한 차이가 없었습니다"
    assert contains("winrate_large_base_vs_base", 0.5)  # "반반을 포함"
    assert iv["large_base_minus_base"]["hi"] < 0  # "위 끝까지 0 아래"
    assert iv["rm_accuracy"]["hi"] < record["thresholds"]["rm_accuracy"]  # below the bar
    assert record["rm_score"]["rlhf"] > record["rm_score"]["sft"]  # proxy up, judge flat
    assert record["rm_score"]["large_base"] > record["rm_score"]["sft"]
    assert record["dpo_beta"] == max(record["betas"]) == record["dpo_rm_beta"]
    scores = record["dpo_by_beta"]
    assert scores["0.1"]["judged"] < scores["0.3"]["judged"] < scores["1.0"]["judged"]
    rlhf_selection = record["selection"]["scores"]["rlhf"].values()
    assert max(rlhf_selection) - min(rlhf_selection) < 0.01  # "거의 같은 점수"
