"""Clusters of reasons (step 2), and the text-tight pieces each cluster is cut into.

k-means runs in a small LSA space (truncated SVD of the tf-idf rows, re-normalised),
fitted on a weighted sample of at most `sample_size` overrides, for k on a grid up to
`max_clusters`; k is the largest within `k_tolerance` of the best silhouette (cosine,
on a sample). Every override then goes to the nearest centroid (cosine in tf-idf space)
and stays only if its reason is like the cluster's other reasons (leave-one-out cosine
>= `min_item_similarity`): unrelated one-off reasons, and reasons with no term seen
twice, join no cluster. A cluster is then cut into pieces, the units that step 4 may
move between themes.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import pairwise_distances, silhouette_score

from ml.themes.corpus import Corpus
from ml.themes.settings import ThemeSettings

_K_GRID = (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 36, 40)


def _k_grid(limit: int) -> list[int]:
    return [k for k in _K_GRID if k <= limit] or [2]


def cluster_rows(corpus: Corpus, seed: int, settings: ThemeSettings) -> np.ndarray:
    """A cluster per unique row (-1: none), by k-means with k chosen by silhouette."""
    s = settings
    x = corpus.tfidf
    usable = np.flatnonzero(np.asarray(x.getnnz(axis=1)).ravel() > 0)
    labels = np.full(x.shape[0], -1, dtype=np.int64)
    if len(usable) == 0:
        return labels
    if len(usable) <= 3:
        labels[usable] = np.arange(len(usable))
        return labels
    rng = np.random.default_rng(seed)
    w = corpus.weights[usable]
    total = int(w.sum())
    if total > s.sample_size:  # a sample of overrides, collapsed to rows with multiplicity
        draws = rng.choice(len(usable), size=s.sample_size, replace=True, p=w / w.sum())
        sample_rows, sample_w = np.unique(draws, return_counts=True)
    else:
        sample_rows, sample_w = np.arange(len(usable)), w.astype(np.int64)
    xs = x[usable[sample_rows]]
    ws = sample_w.astype(float)
    # k-means runs in a small dense space (LSA: truncated SVD of the tf-idf rows,
    # re-normalised), which is much faster than sparse k-means and joins terms
    # that occur together; the cosine to the centroids is then taken in tf-idf space.
    dims = min(s.lsa_dimensions, xs.shape[0] - 1, xs.shape[1] - 1)
    if dims >= 2:
        z = TruncatedSVD(n_components=dims, random_state=seed).fit_transform(xs)
        zn = np.linalg.norm(z, axis=1)
        zn[zn == 0] = 1.0
        z = z / zn[:, None]
    else:
        z = xs.toarray()
    # The silhouette is taken over overrides (rows repeated by multiplicity).
    expanded = np.repeat(np.arange(len(sample_rows)), sample_w)
    if len(expanded) > s.silhouette_sample:
        expanded = np.sort(rng.choice(expanded, size=s.silhouette_sample, replace=False))
    limit = min(s.max_clusters, len(sample_rows) - 1)
    # The cosine distances between the sampled overrides, once for every k (what
    # silhouette_score(metric="cosine") would compute again for each).
    distances = pairwise_distances(z[expanded], metric="cosine")
    scores: list[tuple[int, float, np.ndarray]] = []
    for k in _k_grid(limit):
        km = KMeans(n_clusters=k, n_init=s.kmeans_init, random_state=seed, max_iter=200)
        km.fit(z, sample_weight=ws)
        lab = km.labels_[expanded]
        n_lab = len(np.unique(lab))
        if n_lab < 2 or n_lab >= len(expanded):
            score = -1.0
        else:
            score = float(silhouette_score(distances, lab, metric="precomputed"))
        scores.append((k, score, km.labels_))
    best = max(score for _, score, _ in scores)
    _, _, sample_labels = max(
        (c for c in scores if c[1] >= best - s.k_tolerance), key=lambda c: c[0]
    )
    k = int(sample_labels.max()) + 1
    onehot = sp.csr_matrix(
        (ws, (sample_labels, np.arange(len(sample_rows)))), shape=(k, len(sample_rows))
    )
    centroids = np.asarray((onehot @ xs).todense())
    norms = np.linalg.norm(centroids, axis=1)
    norms[norms == 0] = 1.0
    centroids = centroids / norms[:, None]
    xu = x[usable]
    nearest = np.asarray(np.argmax(xu @ centroids.T, axis=1)).ravel()
    # Keep an override only if its reason is like the cluster's OTHER reasons: the
    # cosine to the cluster's sum without this one copy of it. A cluster of
    # unrelated one-offs that each share a word with one other loses them all.
    onehot = sp.csr_matrix((w, (nearest, np.arange(len(usable)))), shape=(k, len(usable)))
    sums = np.asarray((onehot @ xu).todense())
    sum_sq = (sums**2).sum(axis=1)
    dot = np.asarray(xu @ sums.T)[np.arange(len(usable)), nearest]
    rest_norm = np.sqrt(np.maximum(sum_sq[nearest] - 2.0 * dot + 1.0, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        loo = np.where(rest_norm > 1e-9, (dot - 1.0) / rest_norm, 0.0)
    ok = loo >= s.min_item_similarity
    labels[usable[ok]] = nearest[ok]
    return labels


def cut_into_pieces(
    cluster: np.ndarray, corpus: Corpus, seed: int, settings: ThemeSettings
) -> list[np.ndarray]:
    """A k-means cluster cut into text-tight pieces, the units of reassignment:
    its distinct normalised reasons joined by average-linkage clustering at cosine
    `piece_similarity`, or, for a cluster of many, a k-means split into `pieces`."""
    s = settings
    rows, inverse = np.unique(corpus.row_of[cluster], return_inverse=True)
    if len(rows) <= 1:
        return [cluster]
    if len(rows) <= s.agglomerate_rows:
        dense = corpus.tfidf[rows].toarray()
        agg = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=1.0 - s.piece_similarity,
        )
        labels = agg.fit_predict(dense)[inverse]
    else:
        x = corpus.tfidf[rows]
        w = np.bincount(inverse, minlength=len(rows)).astype(float)
        fit_rows = np.arange(len(rows))
        if len(rows) > s.piece_sample:
            rng = np.random.default_rng(seed)
            fit_rows = np.sort(rng.choice(len(rows), s.piece_sample, replace=False, p=w / w.sum()))
        km = KMeans(n_clusters=s.pieces, n_init=1, random_state=seed, max_iter=50)
        with warnings.catch_warnings():  # fewer distinct rows than pieces: fine
            warnings.simplefilter("ignore", ConvergenceWarning)
            km.fit(x[fit_rows], sample_weight=w[fit_rows])
        labels = km.predict(x)[inverse]
    return [cluster[labels == j] for j in np.unique(labels)]
