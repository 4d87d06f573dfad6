"""The MLflow flavor: fitted fastprep objects in MLflow's model format, without pickle.

``save_model`` writes an MLflow model directory holding the fastprep artifact (``model.fastprep``,
the file ``obj.save`` writes) and MLflow's metadata; ``log_model`` logs one and returns MLflow's
``ModelInfo``; ``load_model`` reads the artifact back, checking its digest. The
``python_function`` flavor is fastprep's own loader, so ``mlflow.pyfunc.load_model(uri)``
works too, and its ``predict(df)`` returns the transform as a DataFrame with the feature names
(the prediction and class probabilities for a pipeline that ends in a model).

Nothing is pickled, so loading works with ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false``; and a
service needs neither MLflow nor this module: ``fastprep.load(path / "model.fastprep")`` is the
model. The signature comes from the object's own input and output schema (no inference run),
the requirements pin the running fastprep version, and ``log_model`` records the artifact's
fingerprint, format and a summary of its training profile on the run.

MLflow (``pip install "fastprep[mlflow]"``, on mlflow-skinny) is imported when a function here
is called, never by ``import fastprep``.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from fastprep._answers import answers
from fastprep._version import __version__
from fastprep.artifact import inspect, load
from fastprep.exceptions import ArtifactError, FastprepError

__all__ = ["FLAVOR_NAME", "get_default_pip_requirements", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "fastprep"
#: The artifact's file name inside the model directory.
ARTIFACT_FILE = "model.fastprep"


def get_default_pip_requirements() -> list[str]:
    """What serving the model needs: this version of fastprep (numpy and pyarrow come with it)."""
    return [f"fastprep=={__version__}"]


def _signature(obj):
    """The model signature from the object's own schema: its input columns (numeric as double,
    categorical as string) and its named outputs."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from fastprep.artifact.container import _inputs

    front = obj._front()
    columns = _inputs(front)
    used = _used_inputs(front)
    if used is not None:
        columns = [c for c in columns if c["name"] in used]
    inputs = Schema(
        [ColSpec("double" if c["type"] == "numeric" else "string", c["name"]) for c in columns]
    )
    schema, _ = answers(obj)
    types = {"double": "double", "float": "double", "int64": "long", "string": "string",
             "large_string": "string", "bool": "boolean"}  # fmt: skip
    outputs = Schema([ColSpec(types.get(str(f.type), "string"), f.name) for f in schema])
    return ModelSignature(inputs=inputs, outputs=outputs)


def _used_inputs(front) -> set[str] | None:
    """The named columns the transform reads (a ColumnTransformer drops the others), or None
    where it reads them all."""
    try:
        return {str(n) for n in front._input_names_used()}
    except (AttributeError, FastprepError):
        return None


def save_model(
    obj,
    path,
    *,
    mlflow_model=None,
    signature=None,
    input_example=None,
    pip_requirements=None,
    extra_pip_requirements=None,
    metadata: dict[str, Any] | None = None,
    conda_env=None,
) -> None:
    """Write the fitted ``obj`` as an MLflow model directory at ``path`` (which must not
    exist): ``model.fastprep`` plus ``MLmodel``, the environment files and, if given, the input
    example. ``signature``: the object's own by default (``False`` for none). ``metadata``:
    MLflow's model metadata, also saved in the artifact's manifest."""
    import yaml
    from mlflow import pyfunc
    from mlflow.models import Model
    from mlflow.models.model import MLMODEL_FILE_NAME
    from mlflow.models.utils import _save_example
    from mlflow.utils.environment import (
        _CONDA_ENV_FILE_NAME,
        _CONSTRAINTS_FILE_NAME,
        _PYTHON_ENV_FILE_NAME,
        _REQUIREMENTS_FILE_NAME,
        _process_conda_env,
        _process_pip_requirements,
        _PythonEnv,
        _validate_env_arguments,
    )
    from mlflow.utils.model_utils import _validate_and_prepare_target_save_path

    obj._check_fitted()
    _validate_env_arguments(conda_env, pip_requirements, extra_pip_requirements)
    path = os.path.abspath(os.fspath(path))
    _validate_and_prepare_target_save_path(path)
    mlflow_model = Model() if mlflow_model is None else mlflow_model
    if input_example is not None:
        _save_example(mlflow_model, input_example, path)
    if signature is None:
        signature = _signature(obj)
    if signature is not False:
        mlflow_model.signature = signature
    if metadata is not None:
        mlflow_model.metadata = metadata

    artifact = Path(path) / ARTIFACT_FILE
    obj.save(artifact, metadata=metadata)
    manifest = inspect(artifact)
    pyfunc.add_to_model(
        mlflow_model,
        loader_module="fastprep.mlflow",
        data=ARTIFACT_FILE,
        conda_env=_CONDA_ENV_FILE_NAME,
        python_env=_PYTHON_ENV_FILE_NAME,
    )
    mlflow_model.add_flavor(
        FLAVOR_NAME,
        fastprep_version=__version__,
        artifact=ARTIFACT_FILE,
        sha256=_file_digest(artifact),
        fingerprint=manifest["fingerprint"],
        format_version=manifest["format_version"],
        kind=manifest["kind"],
    )
    mlflow_model.save(os.path.join(path, MLMODEL_FILE_NAME))

    if conda_env is None:
        default = get_default_pip_requirements() if pip_requirements is None else None
        conda_env, pip_requirements, constraints = _process_pip_requirements(
            default, pip_requirements, extra_pip_requirements
        )
    else:
        conda_env, pip_requirements, constraints = _process_conda_env(conda_env)
    with open(os.path.join(path, _CONDA_ENV_FILE_NAME), "w") as f:
        yaml.safe_dump(conda_env, stream=f, default_flow_style=False)
    if constraints:
        Path(path, _CONSTRAINTS_FILE_NAME).write_text("\n".join(constraints))
    Path(path, _REQUIREMENTS_FILE_NAME).write_text("\n".join(pip_requirements))
    _PythonEnv.current().to_yaml(os.path.join(path, _PYTHON_ENV_FILE_NAME))


def log_model(
    obj,
    name: str = "model",
    *,
    registered_model_name: str | None = None,
    signature=None,
    input_example=None,
    pip_requirements=None,
    extra_pip_requirements=None,
    metadata: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    **kwargs,
):
    """Log the fitted ``obj`` as an MLflow model named ``name`` (in the active run, or one
    MLflow starts), registered as ``registered_model_name`` if given; returns MLflow's
    ``ModelInfo``. The run gets tags ``fastprep.fingerprint``, ``fastprep.format_version``,
    ``fastprep.kind`` and ``fastprep.version``, and params summarising the training profile
    (``fastprep.rows`` at fit, ``fastprep.inputs`` read, ``fastprep.outputs`` made), so that a
    served model is traceable to its training."""
    import mlflow
    from mlflow.models import Model

    info = Model.log(
        artifact_path=None,
        name=name,
        flavor=sys.modules[__name__],
        obj=obj,
        registered_model_name=registered_model_name,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        params=params,
        tags=tags,
        **kwargs,
    )
    run_id = info.run_id
    if run_id:
        conf = info.flavors[FLAVOR_NAME]
        client = mlflow.MlflowClient()
        for key, value in _tracking_tags(conf).items():
            client.set_tag(run_id, key, value)
        for key, value in _profile_params(obj).items():
            client.log_param(run_id, key, value)
    return info


def _tracking_tags(conf: dict) -> dict[str, str]:
    return {
        "fastprep.fingerprint": str(conf["fingerprint"]),
        "fastprep.format_version": str(conf["format_version"]),
        "fastprep.kind": str(conf["kind"]),
        "fastprep.version": str(conf["fastprep_version"]),
    }


def _profile_params(obj) -> dict[str, str]:
    """A summary of the training profile, small enough for run params."""
    from fastprep.artifact.container import _inputs, _outputs
    from fastprep.artifact.profile import profile

    front = obj._front()
    rows = profile(obj).get("rows")
    used = _used_inputs(front)
    inputs = [c for c in _inputs(front) if used is None or c["name"] in used]
    return {
        "fastprep.rows": "unknown" if rows is None else str(rows),
        "fastprep.inputs": str(len(inputs)),
        "fastprep.outputs": str(_outputs(front)),
    }


def _file_digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _local_model_dir(model_uri: str, dst_path=None) -> Path:
    from mlflow.tracking.artifact_utils import _download_artifact_from_uri

    return Path(_download_artifact_from_uri(artifact_uri=model_uri, output_path=dst_path))


def _load_from_dir(model_dir: Path):
    """The fitted object of a local model directory, its artifact checked against the digest
    and fingerprint the flavor recorded."""
    from mlflow.utils.model_utils import _get_flavor_configuration

    conf = _get_flavor_configuration(model_path=str(model_dir), flavor_name=FLAVOR_NAME)
    artifact = model_dir / conf["artifact"]
    if _file_digest(artifact) != conf["sha256"]:
        raise ArtifactError(
            f"{artifact}: its SHA-256 is not the one the MLmodel file records: the artifact "
            "was replaced or damaged"
        )
    obj = load(artifact)
    if obj.fingerprint != conf["fingerprint"]:
        raise ArtifactError(
            f"{artifact}: fingerprint {obj.fingerprint} is not the recorded {conf['fingerprint']}"
        )
    return obj


def load_model(model_uri: str, dst_path=None):
    """The fitted fastprep object logged or saved at ``model_uri`` (a local path, ``runs:/``,
    ``models:/``, or any artifact URI MLflow reads). Only the artifact is read into fastprep,
    and its digest is checked."""
    return _load_from_dir(_local_model_dir(model_uri, dst_path))


class _PyFunc:
    """The ``python_function`` flavor: ``predict`` returns the answers as a DataFrame."""

    def __init__(self, obj):
        self.obj = obj
        self.schema, self.answer = answers(obj)

    def get_raw_model(self):
        return self.obj

    def predict(self, model_input, params: dict[str, Any] | None = None):
        import pandas as pd
        import pyarrow as pa

        if isinstance(model_input, np.ndarray):
            names = getattr(self.obj._front(), "feature_names_in_", None)
            if names is not None and model_input.ndim == 2:
                model_input = pd.DataFrame(model_input, columns=list(names))
        table = pa.Table.from_arrays(self.answer(model_input), schema=self.schema)
        return table.to_pandas()


def _load_pyfunc(path: str) -> _PyFunc:
    """Called by ``mlflow.pyfunc.load_model`` with the model's data path (the artifact)."""
    given = Path(path)
    return _PyFunc(_load_from_dir(given.parent if given.is_file() else given))
