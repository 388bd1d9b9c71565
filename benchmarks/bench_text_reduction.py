"""Reduced against exact BAIT on a text problem where exact BAIT still runs.

A generated corpus (many topics, a vocabulary of a few thousand words, nothing
downloaded) behind ``TfidfVectorizer`` and ``LogisticRegression``: the
embedding BAIT reads is the sparse TF-IDF matrix. Exact BAIT works on the
``(k d)^2`` Fisher of all ``d`` terms; the reduced embedding
(``FisherApproximation(embedding_dims=r)``, the approximation that
``approximation="auto"`` picks for wide sparse embeddings) works on the top
``r`` Fisher-weighted principal directions. For each ``r`` it prints the
exact objective ``tr(M^-1 F)`` reached by the reduced selection over the one
reached by exact BAIT (1.0 is as good; above is worse), the share of exact
BAIT's drop of the objective (from the starting design ``M_0``) that the
reduced selection achieves, the overlap of the two selected sets, and the
times. With TF-IDF rows of unit norm the regulariser dominates ``M``, so the
objective moves little in absolute terms: the drop is the telling figure.

Usage::

    python benchmarks/bench_text_reduction.py
    python benchmarks/bench_text_reduction.py --docs 1500 --batch-size 20
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_corpus(n_docs, n_topics, words_per_topic, seed):
    """Documents of a few topic words, some words of a neighbouring topic, and filler."""
    rng = np.random.RandomState(seed)
    vocabulary = [f"w{t}_{i}" for t in range(n_topics) for i in range(words_per_topic)]
    vocabulary = np.array(vocabulary).reshape(n_topics, words_per_topic)
    filler = np.array([f"f{i}" for i in range(200)])
    labels = rng.randint(n_topics, size=n_docs)
    docs = []
    for label in labels:
        other = (label + rng.choice([-1, 1])) % n_topics
        words = [
            *rng.choice(vocabulary[label], rng.randint(3, 8)),
            *rng.choice(vocabulary[other], rng.randint(0, 4)),
            *rng.choice(filler, rng.randint(4, 10)),
        ]
        docs.append(" ".join(words))
    return docs, labels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1500)
    parser.add_argument("--topics", type=int, default=4)
    parser.add_argument("--words-per-topic", type=int, default=300)
    parser.add_argument("--labeled", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--dims", type=int, nargs="+", default=[25, 50, 100, 200, 400])
    parser.add_argument("--reg", type=float, default=1.0)
    opts = parser.parse_args(argv)

    import torch
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from skbait._fisher import bait_factors, design_start, kron_gram
    from skbait.strategies import FisherApproximation, bait_objective, bait_select

    docs, y = make_corpus(opts.docs, opts.topics, opts.words_per_topic, seed=0)
    Z = TfidfVectorizer().fit_transform(docs)  # sparse CSR
    labeled = np.arange(opts.labeled)
    model = LogisticRegression(max_iter=1000).fit(Z[labeled], y[labeled])
    P = model.predict_proba(Z)
    n, d = Z.shape
    k = P.shape[1]
    print(
        f"{n} documents, {d} TF-IDF terms (density {Z.nnz / (n * d):.4f}), k={k}, "
        f"k*d={k * d}, {opts.labeled} labeled, B={opts.batch_size}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    Z_dense = Z.toarray()
    reg = opts.reg

    def objective(picks):
        return bait_objective(Z_dense, P, labeled, picks, reg=reg)

    # tr(M_0^-1 F) before any pick, with M_0 as bait_select builds it for this batch.
    Zt, St = torch.as_tensor(Z_dense), bait_factors(torch.as_tensor(P))
    F = kron_gram(Zt, St) / n
    M0, _ = design_start(kron_gram(Zt[labeled], St[labeled]), labeled.size, opts.batch_size, reg)
    start_objective = float((torch.linalg.solve(M0, F)).diagonal().sum())

    start = time.perf_counter()
    exact = bait_select(
        Z, P, labeled, opts.batch_size, reg=reg, approximation="exact", device="cpu"
    )
    exact_seconds = time.perf_counter() - start
    exact_objective = objective(exact)
    exact_drop = start_objective - exact_objective
    first = np.setdiff1d(np.arange(n), labeled)[: opts.batch_size]
    rng = np.random.RandomState(0)
    random_picks = rng.choice(np.setdiff1d(np.arange(n), labeled), opts.batch_size, False)
    print(
        f"reg={reg}: tr(M^-1 F) {start_objective:.6g} at M_0, {exact_objective:.6g} after "
        f"exact BAIT ({exact_seconds:.2f} s)"
    )
    for name, picks in (("a random batch", random_picks), ("the first rows", first)):
        value = objective(picks)
        print(
            f"{name}: objective / exact {value / exact_objective:.4f}, "
            f"{(start_objective - value) / exact_drop:.1%} of exact's drop"
        )
    print()
    print(
        f"{'r':>5} {'objective / exact':>18} {'share of drop':>14} {'overlap':>8} "
        f"{'seconds':>8} {'vs exact':>9}"
    )
    for r in opts.dims:
        if r >= min(n, d):
            continue
        start = time.perf_counter()
        picks = bait_select(
            Z,
            P,
            labeled,
            opts.batch_size,
            reg=reg,
            approximation=FisherApproximation(embedding_dims=r),
            device="cpu",
            random_state=0,
        )
        seconds = time.perf_counter() - start
        value = objective(picks)
        overlap = np.intersect1d(picks, exact).size / opts.batch_size
        print(
            f"{r:>5} {value / exact_objective:>18.4f} "
            f"{(start_objective - value) / exact_drop:>14.1%} {overlap:>8.0%} "
            f"{seconds:>8.2f} {exact_seconds / seconds:>8.1f}x"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
