"""Override themes: what a window's override reasons have in common, as concerns.

    mine_themes(overrides, others, model_features) -> [Theme, ...]  (largest share first)

People write one concern many ways ("too young", "founded 1.2 years ago", "under two
years old"); a theme is the concern, not the phrasing. Text alone splits a concern into
its phrasings; what the phrasings share is the items they are about, so clusters are
merged by the payload conditions of their items. The steps, one module each:

1. corpus: each reason normalised into unigrams and bigrams, identical ones weighted,
   as tf-idf rows.
2. clustering: k-means in an LSA space with k chosen by silhouette; an override stays
   in its cluster only if its reason is like the others'; each cluster is cut into
   text-tight pieces.
3. merging: clusters merged into concerns, best pair first: by payload conditions that
   hold across each other's members, or by text when neither has conditions, or by what
   their items' free text mentions (text: one concern written many ways, in posts no
   number or category sets apart).
4. reassignment: a piece that fits another theme's conditions, not its own, moves there;
   then step 3 once more.
5. conditions: per theme, "field = value", "field != value", "field < t", "field > t"
   against the contrast (the workflow's other decided items, or the other overrides),
   and, on a free-text field, "text mentions bitcoin, btc or eth" (text), each tested
   (Fisher, Bonferroni across fields and themes). payloads flattens and
   encodes the payloads; thresholds rounds a numeric cut ("< 2", not "< 1.97").
6. report, labelling, suggestions: tiny and incoherent groups dropped; each theme with
   keywords and label, its share of the overrides of the proposal it overrides most,
   example reasons, and the payload field the active model should use.

0 overrides: []; 1 or 2: one theme holding them all (no clustering). Every threshold
and budget is a field of ThemeSettings (settings). Deterministic for a given seed;
runs with one BLAS/OpenMP thread.
"""

from ml.themes.mining import OverrideSample, mine_themes
from ml.themes.payloads import flatten
from ml.themes.report import Theme
from ml.themes.settings import DEFAULT_SETTINGS, ThemeSettings

__all__ = [
    "DEFAULT_SETTINGS",
    "OverrideSample",
    "Theme",
    "ThemeSettings",
    "flatten",
    "mine_themes",
]
