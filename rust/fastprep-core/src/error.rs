//! One error type for every kernel; the binding maps each variant to one Python exception class.

/// What went wrong, with enough context for a message that names the column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The shape of an input does not match what the kernel or the fitted state expects.
    #[error("{0}")]
    Shape(String),
    /// A value that the kernel refuses (for example a non-positive value for Box-Cox).
    #[error("column {column}: {message}")]
    Value { column: usize, message: String },
    /// A parameter outside its domain.
    #[error("{0}")]
    Parameter(String),
    /// An artifact that is corrupt, tampered with, or of an unsupported version.
    #[error("{0}")]
    Artifact(String),
}

pub type Result<T> = std::result::Result<T, Error>;
