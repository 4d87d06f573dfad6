"""Artifacts: a fitted object as one data-only file.

``obj.save(path, metadata=...)`` writes it; ``fastprep.load(path)`` gives the fitted object
back, with the same outputs and fingerprint; ``fastprep.inspect(path)`` reads the manifest
without building anything. Loading never executes code from the file: the container is
safetensors (arrays) with a JSON manifest (structure, parameters, fingerprint, user metadata,
training profile), and the reader only builds NumPy arrays, plain values and the fastprep kinds
the manifest names, each from its state (``fastprep._state``), which the kind validates.

- ``codec``: parameters and fitted values as JSON plus tensors, and the state nodes;
- ``container``: the file (manifest, safetensors, digest), ``save`` / ``load`` / ``inspect``;
- ``profile``: the training profile the manifest carries.

``fastprep.reference.artifact`` specifies the container and its SHA-256; ``fastprep_core``'s
``artifact`` module reads the same files in Rust, and runs their compiled plan.

Why safetensors rather than Arrow IPC: its header is one JSON object that a reader checks
before touching the data, its layout rules are simple enough to verify completely (the Rust
crate and the reference reader both do), tensors are aligned for zero-copy views, and the
format is widely read (Python, Rust, C++). Arrow IPC would need flatbuffers parsing of
arbitrary schemas and brings nothing the fitted state needs.

Loading validates the fitted state, not only the bytes: non-finite or zero scales, unsorted or
non-finite bin edges and quantiles, vocabularies that are not sorted and distinct, arrays whose
widths do not match the number of columns, and pipelines whose steps do not chain are refused
with ArtifactError.

A loaded numeric transform transforms but cannot ``partial_fit`` or ``merge`` (its training
accumulator, which may hold every training value, is not saved); encoders keep their category
counts, which are their whole fit, so they can go on fitting.

Format 5 (fastprep 0.2) stores what format 4 did; its manifest's ``fingerprint`` is of the
state's canonical form 2 (``fastprep._state``). Files of formats 1 to 4 load as before, and
their objects' fingerprints are of form 2 too: they differ from the form-1 fingerprint their
manifest records (``inspect`` shows the recorded one).
"""

from fastprep.artifact.container import (
    FORMAT_VERSION,
    MIN_READER_VERSION,
    dumps,
    inspect,
    inspect_bytes,
    load,
    loads,
    save,
)

__all__ = [
    "FORMAT_VERSION",
    "MIN_READER_VERSION",
    "dumps",
    "inspect",
    "inspect_bytes",
    "load",
    "loads",
    "save",
]
