"""The tuning of theme mining, in one place: what each value tunes and why it is that value.

`mine_themes(..., settings=ThemeSettings(...))` changes some of them; the defaults are
what the job uses, and the tests' planted worlds and bench/themes.py are measured with them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThemeSettings:
    """Every threshold and budget of the mining steps (see ml.themes for the steps)."""

    # ------------------------------------------------------------------ run
    threads: int = 1
    """BLAS / OpenMP threads while mining. One: the job runs beside the API server, and on
    a busy machine multithreaded LAPACK on small matrices can be 10x slower, not faster."""

    # ------------------------------------------------------------------ corpus (step 1)
    min_term_count: int = 2
    """Overrides a term must occur in to be kept: a term seen once cannot tie two reasons
    together, and dropping it keeps the one-off words out of the clustering."""

    max_vocabulary: int = 20_000
    """The most frequent terms kept. Bounds memory and time when almost every reason is
    distinct (a customer reference in each: bench/themes.py's "all distinct" variant);
    the rarer terms past it are one-offs that cluster nothing."""

    # ------------------------------------------------------------------ clustering (step 2)
    max_clusters: int = 40
    """The largest k tried by k-means (k runs over 2-8, then in steps of 2 and 4 up to
    40, the grid's end). More than the concerns a window plausibly holds: over-splitting
    is cheap, since step 3 merges the phrasings of one concern again."""

    lsa_dimensions: int = 100
    """Dimensions of the LSA space (truncated SVD of the tf-idf rows) k-means runs in: far
    faster than sparse k-means on the full vocabulary, and terms that occur together are
    joined. A customary LSA size: short reasons span few topics."""

    kmeans_init: int = 3
    """k-means restarts per k: a few guard against one bad start while the whole grid of
    k stays affordable."""

    k_tolerance: float = 0.02
    """k is the largest whose silhouette is within this of the best: over-splitting is
    repaired by merging (step 3), a mixed cluster only partly by reassignment (step 4)."""

    sample_size: int = 4000
    """Overrides (drawn by weight, collapsed to distinct reasons) that k-means is fitted
    on; every override is then assigned to the nearest centroid. Keeps a 100k window's
    clustering about as cheap as a 4k one's."""

    silhouette_sample: int = 1500
    """Overrides the silhouette is computed on. Its pairwise distances grow with the
    square of this (1500: about 2.2 million), computed once for every k."""

    min_item_similarity: float = 0.3
    """Leave-one-out cosine an override needs with the rest of its cluster to stay: an
    unrelated one-off reason that shares a single word with one other joins no cluster."""

    pieces: int = 8
    """Pieces a cluster of many distinct reasons is cut into by k-means: the units that
    step 4 may move to another theme."""

    agglomerate_rows: int = 300
    """Up to this many distinct reasons, a cluster's pieces come from average-linkage
    clustering instead (exact, but quadratic in the rows)."""

    piece_similarity: float = 0.5
    """Cosine at which average-linkage joins distinct reasons into one piece: reasons
    this alike are one phrasing."""

    piece_sample: int = 2000
    """Distinct reasons (drawn by weight) that a large cluster's k-means split is fitted
    on, for the cost; all of them are then assigned."""

    # ------------------------------------------------------------------ conditions (step 5)
    min_support: float = 0.65
    """Share of a theme's items a condition must hold for: a clear majority rather than
    all, so that a few reasons clustered into the wrong theme do not hide its conditions."""

    min_count: int = 5
    """Items a condition must hold for, and that a theme needs before conditions are
    looked for: a handful of items can share a value by coincidence."""

    min_lift: float = 1.5
    """How much more often a condition holds in the theme than in the contrast: a
    condition that most items satisfy everywhere says nothing about the concern."""

    alpha: float = 0.01
    """Significance of the one-sided Fisher test, Bonferroni-divided by the conditions
    tried and the clusters: a small or random theme gets no condition by chance."""

    max_conditions: int = 4
    """Conditions reported per theme, highest lift first: what a person reads at once."""

    rounding_slack: float = 0.02
    """How much of Youden's J a rounder threshold may give up: "company_age_years < 2",
    not "< 1.97", when both carve out the theme about as well."""

    numeric_majority: float = 0.9
    """Share of a field's values that must be numbers for it to be compared by "<" and
    ">"; otherwise its values are categories."""

    text_word_share: float = 0.1
    """Share of a theme's items whose text must mention a word for it to be one of a text
    condition's words: a concern written many ways ("bitcoin", "btc", "eth") spreads over
    several words, each in a part of the theme; rarer words are typos and one-offs."""

    text_word_lift: float = 3.0
    """How much more often a text condition's word is mentioned in the theme's items than
    in the contrast's: benign posts use the same words ("bitcoin price is wild today"),
    and a word the whole workflow uses says nothing about the concern."""

    text_min_gain: float = 0.03
    """How much a further word must raise the text condition's share of the theme minus
    its share of the contrast: a word that adds less is a synonym of one chosen (most
    items that mention it mention another) or as common outside as inside."""

    text_max_words: int = 5
    """Words a text condition names at most: what a person reads at once."""

    max_fields: int = 300
    """Payload fields compared (those present in the most overrides): bounds the cost of
    the conditions, which are computed again for every candidate group."""

    # ------------------------------------------------------------------ merging (steps 3, 4)
    merge_condition_agreement: float = 0.75
    """Share of two themes' conditions that must hold across each other's members (both
    ways) for them to be one concern phrased differently."""

    specificity: float = 0.25
    """A description this much rarer in the contrast is the better one: a piece stays in
    a theme whose conditions fit it unless another theme's fit too and are at most this
    share as common (and two conditioned themes do not merge then)."""

    text_merge_similarity: float = 0.5
    """Cosine of the tf-idf centroids at which two themes without conditions are one
    phrasing split in two."""

    text_profile_similarity: float = 0.65
    """Cosine at which two themes' items mention the same words beyond the usual (per
    word, the share of the theme's items mentioning it minus the contrast's) so alike
    that they are one concern written differently (step 3). Measured on the pieces of
    twelve moderation worlds (tests/ml/moderation_overrides.py): two pieces of one scam
    0.82 (median; 5% below 0.6), of two scams above 0.65 in 2 of 2,896 pairs that
    `text_merge_fit` allows. A piece mixing every scam (posts the filter caught and the
    reviewers kept) comes up to 0.99 with each, and `text_merge_fit` keeps it apart."""

    text_merge_fit: float = 0.5
    """Two themes alike in their text merge only if each one's conditions hold on the
    other's items at least this share as often as on its own: "account age < 30" holding
    on 9% of the other's items against 83% of its own sets the two apart."""

    reassign_rounds: int = 3
    """Rounds of moving pieces to the theme whose conditions they fit; a move can make
    another possible, and the rounds stop early when nothing moves."""

    # ------------------------------------------------------------------ report (step 6)
    proposal_dependence: float = 0.1
    """With no active model, the proposals use a field when the share of some proposed
    action differs by this much between the decided items where the field's condition
    holds and the others: ten points is more than sampling noise on a few hundred items
    and far less than a rule the proposals follow makes."""

    tiny_share: float = 0.03
    """A theme with fewer than `min_count` overrides and less than this share of them
    is a leftover, not a concern, and is dropped."""

    min_shared_term: float = 0.5
    """A theme without conditions is kept only if its commonest term is in this share
    of its reasons; otherwise it is one-offs that k-means lumped together."""

    max_keywords: int = 5
    """Keywords shown per theme (the label is the first three)."""

    max_field_terms: int = 12
    """The theme's most typical terms that may name a payload field for the suggestion:
    more than the keywords, since a field's word is often not among the top five."""

    min_keyword_share: float = 0.05
    """Share of the theme's reasons a keyword must occur in: rarer terms are typical of
    a few reasons, not of the theme."""

    surface_rows: int = 500
    """The theme's most frequent distinct reasons read to turn its stems back into the
    words people wrote ("company" -> "companies"); more changes little and costs time."""

    max_examples: int = 3
    """Example reasons per theme."""

    example_max_similarity: float = 0.5
    """An example worded this much like one already chosen (cosine) is skipped while
    others remain, so that the examples show different phrasings."""

    example_pieces: int = 12
    """The theme's largest pieces whose central reasons are candidate examples."""


DEFAULT_SETTINGS = ThemeSettings()
"""What `mine_themes` uses unless given others."""
