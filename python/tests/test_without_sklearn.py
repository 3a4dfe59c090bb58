"""scikit-learn is optional: without it the estimators keep their API (params, repr, fit_predict,
pickling). Run in a subprocess where `import sklearn` fails."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import pickle, sys
    sys.modules["sklearn"] = None  # any import of scikit-learn now raises ImportError
    import numpy as np
    import mcp_train
    from mcp_train import _estimators
    assert not _estimators.HAVE_SKLEARN
    X = np.random.default_rng(0).standard_normal((300, 3))
    X[:5] += 8.0
    forest = mcp_train.IsolationForest(n_estimators=50, contamination=0.02, random_state=1)
    labels = forest.fit_predict(X)
    assert (labels[:5] == -1).all(), labels[:5]
    assert forest.get_params()["n_estimators"] == 50
    assert repr(forest).startswith("IsolationForest(bootstrap=False, contamination=0.02")
    restored = pickle.loads(pickle.dumps(forest))
    assert (restored.score_samples(X) == forest.score_samples(X)).all()
    lof = mcp_train.LocalOutlierFactor(contamination=0.02)
    assert (lof.fit_predict(X)[:5] == -1).all()
    try:
        mcp_train.IsolationForest().score_samples(X)
    except mcp_train.NotFittedError as e:
        assert "not fitted" in str(e)
    else:
        raise AssertionError("unfitted estimator scored")
    print("ok")
    """
)


def test_estimators_work_without_scikit_learn():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_spark_module_imports_without_pyspark():
    """mcp_train.spark imports pyspark and pyarrow only when its functions run."""
    script = (
        "import sys; sys.modules['pyspark'] = None; sys.modules['pyarrow'] = None\n"
        "import mcp_train.spark as s\n"
        "print(s.site_location('s3://b/p/', 'paris-3'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "s3://b/p/sites/paris-3"
