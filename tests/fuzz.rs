//! Mutants of the bundled scenarios never panic or hang, and every one that
//! does not load is rejected with `file:line:col` (`tests/fuzz/mutate.rs`;
//! thousands more in `tests/validation.rs`, `--ignored`).

#[path = "fuzz/mutate.rs"]
mod mutate;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutants_load_and_run_or_fail_with_a_location(
        file in any::<usize>(),
        mutations in prop::collection::vec(mutate::mutation(), 1..4),
    ) {
        let corpus = mutate::corpus();
        let (name, bytes) = &corpus[file % corpus.len()];
        let mutant = mutations.iter().fold(bytes.clone(), |b, m| mutate::apply(&b, m));
        if let Err(e) = mutate::check(&mutant) {
            prop_assert!(false, "{name} with {mutations:?}: {}", &e[..e.len().min(600)]);
        }
    }
}
