"""The MLflow flavor against a local file store in a temporary folder: save, log, register,
load through fastprep and through pyfunc, with pickle deserialization turned off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastprep as fp
from fastprep.datasets import adult_pipeline, load_adult
from fastprep.exceptions import ArtifactError

mlflow = pytest.importorskip("mlflow")
pd = pytest.importorskip("pandas")
fm = pytest.importorskip("fastprep.mlflow")


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """A file store of its own; pickle refused, as a locked-down service would have it."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    mlflow.set_tracking_uri((tmp_path / "store").as_uri())
    mlflow.set_registry_uri((tmp_path / "store").as_uri())
    yield tmp_path
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def adult():
    return load_adult()


@pytest.fixture(scope="module")
def fitted(adult):
    return adult_pipeline().fit({c: v[:4000] for c, v in adult.items()})


@pytest.fixture(scope="module")
def live(adult):
    return pd.DataFrame({c: v[4000:4100] for c, v in adult.items() if c != "salary"})


def test_the_model_directory_holds_the_artifact_and_metadata_only(tracking, fitted):
    path = tracking / "saved"
    fm.save_model(fitted, path)
    files = sorted(p.name for p in path.iterdir())
    assert files == ["MLmodel", "conda.yaml", "model.fastprep", "python_env.yaml",
                     "requirements.txt"]  # fmt: skip
    assert (path / "requirements.txt").read_text().splitlines()[-1] == (
        f"fastprep=={fp.__version__}"
    )
    model = mlflow.models.Model.load(path / "MLmodel")
    conf = model.flavors["fastprep"]
    assert conf["fingerprint"] == fitted.fingerprint and conf["artifact"] == "model.fastprep"
    assert model.flavors["python_function"]["loader_module"] == "fastprep.mlflow"
    # The signature is the pipeline's own: the columns it reads and the features it makes.
    inputs = model.signature.inputs.to_dict()
    assert [c["name"] for c in inputs] == [
        n for n in fitted.feature_names_in_ if n in fitted._input_names_used()
    ]
    assert {c["name"]: c["type"] for c in inputs}["workclass"] == "string"
    assert {c["name"]: c["type"] for c in inputs}["age"] == "double"
    outputs = [c["name"] for c in model.signature.outputs.to_dict()]
    assert outputs == list(fitted.get_feature_names_out())
    # A service needs only the artifact.
    assert fp.load(path / "model.fastprep").fingerprint == fitted.fingerprint
    with pytest.raises(Exception, match="exists"):
        fm.save_model(fitted, path)


def test_log_register_and_load_through_fastprep_and_pyfunc(tracking, fitted, live):
    with mlflow.start_run() as run:
        info = fm.log_model(fitted, name="prep", registered_model_name="adult-prep")
    assert isinstance(info, mlflow.models.model.ModelInfo)
    assert info.run_id == run.info.run_id
    for uri in (info.model_uri, "models:/adult-prep/1"):
        assert fm.load_model(uri).fingerprint == fitted.fingerprint
        served = mlflow.pyfunc.load_model(uri)
        out = served.predict(live)
        assert isinstance(out, pd.DataFrame)
        assert list(out.columns) == list(fitted.get_feature_names_out())
        np.testing.assert_array_equal(out.to_numpy(), fitted.transform(live))
    # The run can be traced to the artifact.
    logged = mlflow.get_run(info.run_id).data
    assert logged.tags["fastprep.fingerprint"] == fitted.fingerprint
    assert logged.tags["fastprep.version"] == fp.__version__
    assert logged.params["fastprep.rows"] == "4000"
    assert logged.params["fastprep.outputs"] == str(len(fitted.get_feature_names_out()))


def test_a_pipeline_ending_in_a_model_predicts(tracking, adult, live):
    """A converted scikit-learn pipeline: pyfunc's predict gives its predictions and class
    probabilities, named."""
    compose = pytest.importorskip("sklearn.compose")
    linear_model = pytest.importorskip("sklearn.linear_model")
    sk_pipeline = pytest.importorskip("sklearn.pipeline")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    numeric = ["age", "education_num", "hours_per_week", "capital_gain"]
    train = pd.DataFrame({c: adult[c][:4000] for c in numeric})
    y = (adult["salary"][:4000] == ">50K").astype(int)
    sk = sk_pipeline.Pipeline([
        ("prep", compose.ColumnTransformer([("num", preprocessing.StandardScaler(), numeric)])),
        ("model", linear_model.LogisticRegression(max_iter=500)),
    ]).fit(train, y)  # fmt: skip
    fitted = fp.from_sklearn(sk)
    path = tracking / "model"
    fm.save_model(fitted, path)
    signature = mlflow.models.Model.load(path / "MLmodel").signature
    assert [c["name"] for c in signature.outputs.to_dict()] == ["prediction", "proba_0", "proba_1"]
    out = mlflow.pyfunc.load_model(str(path)).predict(live[numeric])
    assert list(out.columns) == ["prediction", "proba_0", "proba_1"]
    np.testing.assert_array_equal(out["prediction"].to_numpy(), sk.predict(live[numeric]))
    np.testing.assert_allclose(
        out[["proba_0", "proba_1"]].to_numpy(), sk.predict_proba(live[numeric]), rtol=1e-12
    )


def test_a_replaced_artifact_is_refused(tracking, fitted):
    path = tracking / "saved"
    fm.save_model(fitted, path)
    other = fp.StandardScaler().fit(np.arange(6.0).reshape(3, 2))
    other.save(path / "model.fastprep")
    with pytest.raises(ArtifactError, match="SHA-256"):
        fm.load_model(str(path))
    with pytest.raises(ArtifactError):
        mlflow.pyfunc.load_model(str(path))


def test_importing_fastprep_does_not_import_mlflow():
    code = "import sys, fastprep, fastprep.datasets; print('mlflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert Path(fm.__file__).name == "mlflow.py"
