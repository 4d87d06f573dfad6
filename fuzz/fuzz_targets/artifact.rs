//! Any bytes given to the artifact reader: an artifact or an error, never a panic or a hang;
//! an artifact that loads runs its plan on rows of awkward values.
#![no_main]

use fastprep_core::artifact::Artifact;
use libfuzzer_sys::fuzz_target;

#[path = "../../rust/fastprep-core/tests/common/rows.rs"]
mod rows;

fuzz_target!(|data: &[u8]| {
    if let Ok(artifact) = Artifact::from_bytes(data.to_vec()) {
        if let Ok(t) = artifact.transformer() {
            rows::run(&t);
        }
    }
});
