//! `fastprep._core`: the compiled kernels. Each binding converts its arguments, releases the GIL,
//! calls `fastprep-core`, and maps errors; nothing else lives here.

mod artifact;
mod binarize;
mod discretize;
mod drift;
mod encode;
mod errors;
mod function;
mod hashing;
mod impute;
mod linear;
mod normalize;
mod plan;
mod polynomial;
mod post;
mod power;
mod quantile;
mod quantile_transform;
mod scale;
mod special;
mod spline;
mod stats;
mod strings;
mod util;

use pyo3::prelude::*;

/// Panics inside the kernel guard, so tests can prove that a panic reaches Python as a
/// `FastprepError` and never as a `PanicException`.
#[pyfunction]
fn _panic_guard_probe(py: Python<'_>) -> PyResult<()> {
    util::detached(py, || -> fastprep_core::Result<()> { panic!("probe") })
}

/// Caps the threads a large batch is split across: 1 keeps every call on the calling thread,
/// 0 (the default) uses rayon's whole pool.
#[pyfunction]
fn set_max_threads(n: usize) {
    fastprep_core::parallel::set_max_threads(n);
}

#[pyfunction]
fn max_threads() -> usize {
    fastprep_core::parallel::max_threads()
}

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEBUG_BUILD", cfg!(debug_assertions))?;
    m.add_function(wrap_pyfunction!(stats::column_stats, m)?)?;
    m.add_function(wrap_pyfunction!(stats::csr_column_stats, m)?)?;
    m.add_function(wrap_pyfunction!(stats::weighted_column_stats, m)?)?;
    m.add_function(wrap_pyfunction!(stats::weighted_csr_column_stats, m)?)?;
    m.add_function(wrap_pyfunction!(stats::copy_matrix, m)?)?;
    m.add_function(wrap_pyfunction!(scale::sub_div, m)?)?;
    m.add_function(wrap_pyfunction!(scale::sub_div_csr, m)?)?;
    m.add_function(wrap_pyfunction!(scale::mul_add, m)?)?;
    m.add_function(wrap_pyfunction!(linear::linear_decision, m)?)?;
    m.add_function(wrap_pyfunction!(linear::linear_proba, m)?)?;
    m.add_function(wrap_pyfunction!(normalize::normalize, m)?)?;
    m.add_function(wrap_pyfunction!(normalize::normalize_csr, m)?)?;
    m.add_function(wrap_pyfunction!(binarize::binarize, m)?)?;
    m.add_function(wrap_pyfunction!(function::apply_function, m)?)?;
    m.add_function(wrap_pyfunction!(polynomial::polynomial, m)?)?;
    m.add_function(wrap_pyfunction!(spline::spline, m)?)?;
    m.add_function(wrap_pyfunction!(impute::impute, m)?)?;
    m.add_function(wrap_pyfunction!(impute::fill_csr, m)?)?;
    m.add_function(wrap_pyfunction!(discretize::digitize, m)?)?;
    m.add_function(wrap_pyfunction!(quantile::column_quantiles, m)?)?;
    m.add_function(wrap_pyfunction!(quantile::column_medians, m)?)?;
    m.add_function(wrap_pyfunction!(quantile::column_quantiles_and_medians, m)?)?;
    m.add_function(wrap_pyfunction!(quantile::column_modes, m)?)?;
    m.add_function(wrap_pyfunction!(quantile::weighted_column_quantiles, m)?)?;
    m.add_function(wrap_pyfunction!(
        quantile::csr_column_quantiles_and_medians,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(quantile::csr_column_modes, m)?)?;
    m.add_function(wrap_pyfunction!(quantile_transform::quantile_transform, m)?)?;
    m.add_function(wrap_pyfunction!(
        quantile_transform::quantile_transform_csr,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(power::power_transform, m)?)?;
    m.add_function(wrap_pyfunction!(power::power_log_likelihood, m)?)?;
    m.add_function(wrap_pyfunction!(power::fit_power_lambdas, m)?)?;
    m.add_function(wrap_pyfunction!(special::ndtri, m)?)?;
    m.add_function(wrap_pyfunction!(special::ndtr, m)?)?;
    m.add_function(wrap_pyfunction!(artifact::read_artifact, m)?)?;
    m.add_function(wrap_pyfunction!(drift::bin_counts, m)?)?;
    m.add_function(wrap_pyfunction!(drift::code_counts, m)?)?;
    m.add_function(wrap_pyfunction!(post::softmax, m)?)?;
    m.add_function(wrap_pyfunction!(post::log_softmax, m)?)?;
    m.add_function(wrap_pyfunction!(post::sigmoid, m)?)?;
    m.add_function(wrap_pyfunction!(post::argmax, m)?)?;
    m.add_function(wrap_pyfunction!(post::top_k, m)?)?;
    m.add_function(wrap_pyfunction!(post::nms, m)?)?;
    m.add_class::<encode::CategoryIndex>()?;
    m.add_class::<plan::Plan>()?;
    m.add_class::<plan::RowCall>()?;
    m.add_class::<linear::ModelRowCall>()?;
    m.add_function(wrap_pyfunction!(encode::count_categories, m)?)?;
    m.add_function(wrap_pyfunction!(encode::merge_category_counts, m)?)?;
    m.add_function(wrap_pyfunction!(encode::lookup_codes, m)?)?;
    m.add_function(wrap_pyfunction!(encode::encode_gather, m)?)?;
    m.add_function(wrap_pyfunction!(encode::encode_onehot_dense, m)?)?;
    m.add_function(wrap_pyfunction!(encode::encode_onehot_csr, m)?)?;
    m.add_function(wrap_pyfunction!(strings::object_strings, m)?)?;
    m.add_function(wrap_pyfunction!(hashing::hash_columns, m)?)?;
    m.add_function(wrap_pyfunction!(hashing::hash_features, m)?)?;
    m.add_function(wrap_pyfunction!(set_max_threads, m)?)?;
    m.add_function(wrap_pyfunction!(max_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_guard_probe, m)?)?;
    Ok(())
}
