//! Any bytes given to the artifact reader: an artifact or an error, never a panic or a hang.
#![no_main]

use fastprep_core::artifact::Artifact;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(artifact) = Artifact::from_bytes(data.to_vec()) {
        let _ = artifact.transformer();
    }
});
