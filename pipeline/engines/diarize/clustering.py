"""Which voice each piece is: centroid-linkage clustering of tracks (as pyannote), then pieces
to the nearest centroid, refined k-means style."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.engines.diarize.segmentation import FRAME_S, Piece

if TYPE_CHECKING:
    from pipeline.engines.diarize import DiarizeOptions


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-9)


def _fold_small(vectors: np.ndarray, labels: np.ndarray, weights: np.ndarray, min_weight: float,
                count: int) -> tuple[np.ndarray, int]:
    """(labels with clusters lighter than min_weight given to the nearest of the `count`
    heaviest large clusters, how many large clusters there were)."""
    ids = np.unique(labels)
    mass = np.array([weights[labels == c].sum() for c in ids])
    large = ids[mass >= min_weight]
    kept = large[np.argsort(-mass[mass >= min_weight])][:count]
    if not len(kept):
        return np.zeros(len(vectors), int), 0
    centroids = unit(np.stack([vectors[labels == c].mean(axis=0) for c in kept]))
    return np.argmax(vectors @ centroids.T, axis=1), len(large)


def centroid_linkage(vectors: np.ndarray, weights: np.ndarray, count: int | None,
                     options: DiarizeOptions) -> np.ndarray:
    """A cluster index per unit vector: centroid-linkage agglomerative clustering cut into
    `count` clusters that each hold at least min_cluster_share of the speech (lighter ones are
    outliers folded into the nearest large cluster, as pyannote's min_cluster_size does), or cut
    at a distance when the count is unknown. When no cut yields `count` large clusters (a voice
    heard for a second), fewer speakers are returned rather than a real voice split in two."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(vectors) < 2 or count == 1:
        return np.zeros(len(vectors), int)
    tree = linkage(vectors, method="centroid", metric="euclidean")
    min_weight = options.min_cluster_share * weights.sum()
    if count is None:
        count = max(1, _fold_small(vectors, fcluster(tree, options.unknown_threshold, criterion="distance"),
                                   weights, min_weight, len(vectors))[1])
    best, best_large = np.zeros(len(vectors), int), 0
    for cut in range(count, len(vectors) + 1):
        labels, large = _fold_small(vectors, fcluster(tree, cut, criterion="maxclust"), weights, min_weight, count)
        if large >= count:
            return labels
        if large > best_large:
            best, best_large = labels, large
    return best


def refine(vectors: np.ndarray, labels: np.ndarray, passes: int,
           count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(labels, unit centroids) after k-means-style passes with cosine similarity."""
    count = count or (int(labels.max()) + 1 if len(labels) else 0)
    centroids = centroids_of(vectors, labels, count)
    for _ in range(passes):
        labels = np.argmax(vectors @ centroids.T, axis=1)
        centroids = centroids_of(vectors, labels, count, centroids)
    return labels, centroids


def centroids_of(vectors: np.ndarray, labels: np.ndarray, count: int, previous: np.ndarray | None = None) -> np.ndarray:
    rows = []
    for c in range(count):
        members = vectors[labels == c]
        rows.append(members.mean(axis=0) if len(members) else previous[c])
    return unit(np.stack(rows)) if rows else np.zeros((0, vectors.shape[1]), np.float32)


def match_margin(similarity: np.ndarray, labels: np.ndarray, sure_margin: float) -> np.ndarray:
    """0-1 per vector: its similarity lead of its speaker over the best other one."""
    if similarity.shape[1] < 2:
        return np.ones(len(labels))
    own = similarity[np.arange(len(labels)), labels]
    others = similarity.copy()
    others[np.arange(len(labels)), labels] = -np.inf
    return np.clip((own - others.max(axis=1)) / sure_margin, 0.0, 1.0)


def track_vectors(pieces: list[Piece], vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(track of each piece, unit vector of each track): a track is one local speaker's solo
    speech in one window, whose pieces' vectors are averaged by length. Tracks are long, so
    their vectors are steady enough for the linkage to find the speakers."""
    track = track_index(pieces)
    lengths = np.array([p.last - p.first for p in pieces], np.float32)[:, None]
    sums = np.zeros((int(track.max()) + 1 if len(track) else 0, vectors.shape[1]), np.float32)
    np.add.at(sums, track, vectors * lengths)
    return track, unit(sums)


def track_index(pieces: list[Piece]) -> np.ndarray:
    """The track of each piece, numbered in order of first piece."""
    keys = [(p.window, p.local) for p in pieces]
    index = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    return np.array([index[key] for key in keys], int)


def cluster_pieces(vectors: np.ndarray, pieces: list[Piece], speakers: int | None,
                   options: DiarizeOptions) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(speaker per piece, its match weight 0.5-1, unit centroids, separation 0-1) for unit
    piece vectors.

    The linkage runs on tracks (steady vectors); the pieces (short, but able to show a change
    of voice inside a track) then go to the nearest centroid, refined k-means style."""
    track, tracks = track_vectors(pieces, vectors)
    piece_seconds = np.array([p.last - p.first for p in pieces]) * FRAME_S
    track_labels = centroid_linkage(tracks, np.bincount(track, piece_seconds), speakers, options)
    _, centroids = refine(tracks, track_labels, options.kmeans_passes)
    labels, centroids = refine(vectors, np.argmax(vectors @ centroids.T, axis=1), options.kmeans_passes,
                               len(centroids))
    return labelled(vectors, labels, centroids, options)


def most_shared_tracks(pieces: list[Piece], labels: np.ndarray) -> float:
    """0-1: the largest share, over pairs of voices, of the two voices' speech (piece seconds)
    that lies in tracks holding pieces of both. A track is one local speaker of one window."""
    if not len(labels):
        return 0.0
    track = track_index(pieces)
    per_track = np.zeros((int(track.max()) + 1, int(labels.max()) + 1))
    np.add.at(per_track, (track, labels), [(p.last - p.first) * FRAME_S for p in pieces])
    voices = per_track.shape[1]
    total, heard = per_track.sum(axis=0), per_track > 0
    shares = [per_track[heard[:, a] & heard[:, b]][:, [a, b]].sum() / max(total[a] + total[b], 1e-9)
              for a in range(voices) for b in range(a + 1, voices)]
    return max(shares, default=0.0)


def slow_labels(vectors: np.ndarray, times: np.ndarray, speakers: int, options: DiarizeOptions) -> np.ndarray:
    """A speaker per piece from the directions of the voice vectors that change least from one
    piece to the next in time, against how much they vary overall (slow feature analysis): a voice
    changes only at a turn, what is said and how it is said change every piece. When two voices
    are so alike that every track blends them, the speaker is still there, but not along the
    directions that vary most: on the tuning set the pieces of such a pair were 99 % separable
    by a line, 74 % by k-means on the vectors and 98 % by k-means on the slowest direction.
    The vectors are first reduced to their `slow_pca_dims` main directions (there are fewer
    pieces than dimensions); k-means then runs on the `speakers` - 1 slowest."""
    from scipy.linalg import eigh
    from sklearn.cluster import KMeans

    centred = vectors - vectors.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ axes[: min(options.slow_pca_dims, len(vectors) - 1)].T
    steps = np.diff(reduced[np.argsort(times, kind="stable")], axis=0)
    spread = reduced.T @ reduced / len(reduced) + 1e-6 * np.eye(reduced.shape[1])
    _, directions = eigh(steps.T @ steps / len(steps), spread)
    slow = reduced @ directions[:, : max(1, speakers - 1)]
    return KMeans(speakers, n_init=10, random_state=0).fit_predict(slow)


def relabelled(vectors: np.ndarray, labels: np.ndarray, options: DiarizeOptions) -> np.ndarray:
    """The labels a linear model trained on the labelling itself gives each piece, each from a
    model that never saw that piece (`relabel_folds`-fold cross-validation): what tells the voices
    apart, learnt from the many pieces the clustering got right, overrules a centroid pulled by
    what a few pieces say. Labellings with a voice of fewer than `relabel_min_pieces` pieces
    are kept as they are: too few to learn from."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    counts = np.bincount(labels)
    if len(counts) < 2 or counts.min() < max(options.relabel_min_pieces, options.relabel_folds):
        return labels
    model = LogisticRegression(C=options.relabel_c, max_iter=2000)
    folds = StratifiedKFold(options.relabel_folds, shuffle=True, random_state=0)
    return cross_val_predict(model, vectors, labels, cv=folds)


def labelled(vectors: np.ndarray, labels: np.ndarray, centroids: np.ndarray, options: DiarizeOptions
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(labels, each piece's match weight 0.5-1, centroids, separation 0-1: the median match)."""
    margin = match_margin(vectors @ centroids.T, labels, options.sure_margin)
    separation = float(np.median(margin)) if len(margin) else 0.0
    return labels, 0.5 + 0.5 * margin, centroids, separation


def silhouette(vectors: np.ndarray, labels: np.ndarray, sample: int = 2000) -> float:
    """Mean cosine silhouette of the labelling (on at most `sample` vectors, fixed seed): how
    much closer each vector is to its own cluster than to the next. -1 for one cluster."""
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2:
        return -1.0
    chosen = np.random.default_rng(0).choice(len(vectors), min(len(vectors), sample), replace=False)
    if len(np.unique(labels[chosen])) < 2:
        return -1.0
    return float(silhouette_score(vectors[chosen], labels[chosen], metric="cosine"))


def standing_apart(silhouette: float, separation: float) -> float:
    """How well a labelling's clusters stand apart: the silhouette (the clusters as wholes),
    weighed by the separation (each piece's lead for its own speaker) when positive. CAM++ alone
    once matched the joined space's silhouette (0.089 against 0.086) with pieces that barely
    chose (separation 0.21 against 1.0), and confused whole turns (a tuning seed of the
    fr-be/fr+m3 pair: DER 9.8 %, 0.9 % with the joined labelling)."""
    return silhouette * separation if silhouette > 0 else silhouette
