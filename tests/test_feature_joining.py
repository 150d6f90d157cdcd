"""The Rasa server joins a message's sparse features without scipy's general hstack
(crm.runtime.rasa_server.install_fast_feature_joining): the same matrix as Rasa's join for the
COO matrices the featurizers make, Rasa's own join for anything else."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from rasa.shared.nlu.training_data.features import Features

from crm.runtime import rasa_server

rasa_server.install_fast_feature_joining()


def features(matrix) -> Features:
    return Features(matrix, "sequence", "text", "CountVectorsFeaturizer")


def both_ways(left, right):
    fast, general = features(left.copy()), features(left.copy())
    fast.combine_with_features(features(right))
    Features._combine_sparse_features.general(general, features(right))
    return fast.features, general.features


@pytest.mark.parametrize("seed", range(40))
def test_the_same_matrix_as_rasas_join(seed):
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 12))
    dtypes = [np.float32, np.float64, np.int64]
    left = scipy.sparse.random(rows, int(rng.integers(1, 3000)), density=float(rng.uniform(0, 0.05)), format="coo")
    right = scipy.sparse.random(rows, int(rng.integers(1, 400)), density=float(rng.uniform(0, 0.3)), format="coo")
    left, right = left.astype(dtypes[seed % 3]), right.astype(dtypes[(seed // 3) % 3])
    if seed % 5 == 0:  # a repeated entry, as a COO matrix may hold: kept, not summed, by both
        right = scipy.sparse.coo_matrix(
            (np.r_[right.data, 1], (np.r_[right.row, 0], np.r_[right.col, 0])), shape=right.shape
        )
    fast, general = both_ways(left, right)
    assert type(fast) is type(general) is scipy.sparse.coo_matrix
    assert fast.shape == general.shape and fast.dtype == general.dtype and fast.nnz == general.nnz
    assert np.array_equal(fast.toarray(), general.toarray())


def test_other_formats_and_unequal_lengths_go_to_rasas_join():
    left = scipy.sparse.random(3, 10, density=0.3, format="csr")
    fast, general = both_ways(left, scipy.sparse.random(3, 4, density=0.3, format="coo"))
    assert type(fast) is type(general) and np.array_equal(fast.toarray(), general.toarray())
    with pytest.raises(ValueError, match="sequence dimensions do not match"):
        features(scipy.sparse.coo_matrix((3, 5))).combine_with_features(features(scipy.sparse.coo_matrix((4, 5))))
