//! The one mapping from core errors to the Python exception classes of `fastprep.exceptions`.
//!
//! The classes are defined in Python so that both backends raise the identical class.

use fastprep_core::Error;
use pyo3::PyErr;

pyo3::import_exception!(fastprep.exceptions, FastprepError);
pyo3::import_exception!(fastprep.exceptions, SchemaError);
pyo3::import_exception!(fastprep.exceptions, DataError);
pyo3::import_exception!(fastprep.exceptions, ParameterError);
pyo3::import_exception!(fastprep.exceptions, ArtifactError);

pub fn to_py(err: Error) -> PyErr {
    match err {
        Error::Shape(msg) => SchemaError::new_err(msg),
        Error::Value { .. } => DataError::new_err(err.to_string()),
        Error::Parameter(msg) => ParameterError::new_err(msg),
        Error::Artifact(msg) => ArtifactError::new_err(msg),
    }
}
