"""ch03: correct answers written differently from the reference solution."""

CASES: dict[str, str] = {
    # prompt grown by string concatenation; every label scored in one right-padded batch with an
    # attention mask, log-probabilities gathered with torch.gather; argmax through Python's max
    "part1": """\
import torch.nn.functional as F


def build_icl_prompt(demos: list[tuple[str, str]], query: str) -> str:
    text = ""
    for sentence, label in demos:
        text += "Text: " + sentence + "\\nTopic: " + label + "\\n\\n"
    return text + "Text: " + query + "\\nTopic:"


def label_logprobs(model, tokenizer, prompt: str, labels: list[str]) -> torch.Tensor:
    prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
    label_ids = [tokenizer.encode(" " + label, add_special_tokens=False) for label in labels]
    rows = [prompt_ids + ids for ids in label_ids]
    width = max(len(row) for row in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    # right padding: the padded tail never influences the earlier (causal) positions
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for r, row in enumerate(rows):
        input_ids[r, : len(row)] = torch.tensor(row)
        mask[r, : len(row)] = 1
    with torch.no_grad():
        logits = model(input_ids=input_ids.to(model.device),
                       attention_mask=mask.to(model.device)).logits.float().cpu()
    logprobs = F.log_softmax(logits, dim=-1)
    start = len(prompt_ids)
    scores = torch.empty(len(labels))
    for r, ids in enumerate(label_ids):
        # the logits at position start - 1 + j predict label token j
        predicting = logprobs[r, start - 1 : start - 1 + len(ids)]
        targets = torch.tensor(ids).unsqueeze(1)
        scores[r] = predicting.gather(1, targets).sum()
    return scores


def predict_label(model, tokenizer, prompt: str, labels: list[str]) -> str:
    scores = label_logprobs(model, tokenizer, prompt, labels).tolist()
    return max(zip(labels, scores), key=lambda pair: pair[1])[0]
""",
    # labels drawn all at once with rng.choice of indices; an explicit loop over conditions;
    # bootstrap means through per-resample counts (a counts matrix times the differences)
    "part2": """\
def random_label_demos(demos, labels, seed):
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(labels), size=len(demos))
    return [(sentence, labels[int(k)]) for (sentence, _), k in zip(demos, picks)]


def score_conditions(classify, conditions, items):
    inputs = [item[0] for item in items]
    answers = [item[1] for item in items]
    results = {}
    for name in conditions:
        predicted = classify(conditions[name], inputs)
        results[name] = np.fromiter(
            (1.0 if guess == answer else 0.0 for guess, answer in zip(predicted, answers)),
            dtype=float, count=len(answers))
    return results


def paired_bootstrap(a, b, idx, level=0.95):
    a, b, idx = np.asarray(a, dtype=float), np.asarray(b, dtype=float), np.asarray(idx)
    R, n = idx.shape
    # counts[r, i] = how often item i was drawn in resample r
    counts = np.zeros((R, len(a)))
    np.add.at(counts, (np.repeat(np.arange(R), n), idx.ravel()), 1.0)
    differences = b - a
    means = counts @ differences / n
    tail = (1.0 - level) / 2.0
    lo = np.quantile(means, tail)
    hi = np.quantile(means, 1.0 - tail)
    return float(np.sum(differences) / len(differences)), float(lo), float(hi)
""",
    # y through a batched matrix product; the error as a sum divided by B * d
    "part3": """\
def sample_prompts(batch_size, n_points, d, generator=None):
    xs = torch.randn((batch_size, n_points, d), generator=generator)
    w = torch.randn((batch_size, d), generator=generator)
    ys = torch.bmm(xs, w.unsqueeze(2)).squeeze(2)
    return xs, ys, w


def normalised_error(preds, ys, d):
    squared = (preds - ys).square()
    return squared.sum(dim=0) / (squared.shape[0] * d)
""",
    # least squares with torch.linalg.lstsq (gelsd, minimum norm); k-NN through torch.sort of
    # vector norms; averaging vectorised with a cumulative sum over positions
    "part4": """\
def least_squares_predict(xs, ys):
    B, n, d = xs.shape
    preds = torch.zeros(B, n)
    for i in range(1, n):
        # gelsd returns the minimum-norm solution of under-determined systems as well
        w_hat = torch.linalg.lstsq(xs[:, :i], ys[:, :i, None], driver="gelsd").solution
        preds[:, i] = torch.einsum("bd,bd->b", xs[:, i], w_hat[..., 0])
    return preds


def knn_predict(xs, ys, n_neighbours=3):
    B, n, d = xs.shape
    preds = torch.zeros(B, n)
    for i in range(1, n):
        dist = torch.linalg.vector_norm(xs[:, :i] - xs[:, i].unsqueeze(1), dim=-1)  # (B, i)
        order = torch.sort(dist, dim=1).indices[:, : min(i, n_neighbours)]
        preds[:, i] = torch.take_along_dim(ys[:, :i], order, dim=1).mean(dim=1)
    return preds


def averaging_predict(xs, ys):
    B, n, d = xs.shape
    running = torch.cumsum(ys.unsqueeze(-1) * xs, dim=1)  # sum of y_j x_j for j <= i
    counts = torch.arange(1, n + 1, dtype=xs.dtype).view(1, n, 1)
    w_hats = running / counts  # w_hats[:, i] uses pairs 0..i
    preds = torch.zeros(B, n)
    preds[:, 1:] = (w_hats[:, :-1] * xs[:, 1:]).sum(dim=-1)
    return preds
""",
    # interleaving by stacking padded x and y vectors and reshaping; MSE through F.mse_loss
    "part5": """\
import torch.nn.functional as F


def interleave_xy(xs, ys):
    B, n, d = xs.shape
    x_rows = torch.cat([xs, xs.new_zeros(B, n, 1)], dim=-1)  # [x_i, 0]
    y_rows = torch.cat([xs.new_zeros(B, n, d), ys.unsqueeze(-1)], dim=-1)  # [0, ..., 0, y_i]
    return torch.stack([x_rows, y_rows], dim=2).reshape(B, 2 * n, d + 1)


def regression_loss(model, batch):
    inputs, targets = batch
    return F.mse_loss(model(inputs, targets), targets)
""",
    # distinct tokens with torch.multinomial (no replacement) indexed by position mod p;
    # induction targets as a per-row (T, T) mask summed with einsum; the previous-token
    # attention picked by advanced indexing
    "part6": """\
def repeated_batch(batch_size, seq_len, vocab_size, min_period, max_period, generator=None):
    periods = torch.randint(min_period, max_period + 1, (batch_size,), generator=generator)
    tokens = torch.empty(batch_size, seq_len, dtype=torch.long)
    uniform = torch.ones(vocab_size)
    for row in range(batch_size):
        p = int(periods[row])
        cycle = torch.multinomial(uniform, p, replacement=False, generator=generator)
        tokens[row] = cycle[torch.arange(seq_len) % p]
    return tokens, periods


def induction_score(attn, periods):
    B, H, T, _ = attn.shape
    t = torch.arange(T).unsqueeze(1)
    s = torch.arange(T).unsqueeze(0)
    total = torch.zeros(H, dtype=attn.dtype)
    positions = 0
    for row in range(B):
        p = int(periods[row])
        # s = t - p + 1, t - 2p + 1, ... (s >= 0), only for repeated positions t >= p
        mask = ((t - s + 1) % p == 0) & (s <= t - p + 1) & (t >= p)
        total += torch.einsum("hts,ts->h", attn[row], mask.to(attn.dtype))
        positions += max(T - p, 0)
    return total / positions


def previous_token_score(attn):
    T = attn.shape[-1]
    after = torch.arange(1, T)
    return attn[:, :, after, after - 1].mean(dim=(0, 2))
""",
}
