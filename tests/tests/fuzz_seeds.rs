//! The fuzz targets' checks (`fuzz/src/checks`), replayed over their committed seeds on the
//! stable toolchain, so every CI run exercises each parser with the inputs the fuzzers start
//! from (and the inputs of every crash found, kept as seeds). Long runs:
//! `bash scripts/fuzz.sh SECONDS` (nightly, cargo-fuzz).

#[allow(dead_code, unreachable_pub)]
#[path = "../../fuzz/src/checks/mod.rs"]
mod checks;

use std::path::Path;

#[test]
fn every_fuzz_target_passes_its_seed_corpus() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for (name, check) in checks::TARGETS {
        let dir = seeds.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{name}: only {} seeds", files.len());
        for file in files {
            let input = std::fs::read(&file).expect("a seed");
            let outcome = std::panic::catch_unwind(|| check(&input));
            assert!(outcome.is_ok(), "{name}: seed {} failed", file.display());
        }
    }
}
