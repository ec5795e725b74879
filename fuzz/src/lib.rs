//! wsgate's fuzz targets: each target in `fuzz_targets/` hands its input to one function of
//! [`checks`], which feeds it to a parser a peer or a route author reaches and asserts what
//! must hold for every input. The same functions replay the committed seeds (`fuzz/seeds/`)
//! in the stable test suite (`tests/tests/fuzz_seeds.rs`).

pub mod checks;
