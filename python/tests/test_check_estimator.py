"""scikit-learn's estimator checks (check_estimator, one pytest case per check). Checks that
cannot pass are listed in EXPECTED_FAILURES with the reason; everything else must pass."""

import pytest

sklearn_estimator_checks = pytest.importorskip("sklearn.utils.estimator_checks")

from mcp_train import IsolationForest, LocalOutlierFactor  # noqa: E402

# check name -> why it cannot pass, per estimator class. Empty: every check runs and passes.
# (Skipped by scikit-learn itself: the array-API checks, which need SCIPY_ARRAY_API and
# array-api-strict; the estimators take numpy arrays, lists and DataFrames.)
EXPECTED_FAILURES = {}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@sklearn_estimator_checks.parametrize_with_checks(
    [IsolationForest(random_state=0), LocalOutlierFactor(), LocalOutlierFactor(novelty=True)],
    expected_failed_checks=expected_failed_checks,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
