//! The shared test vectors (`plugins/vectors.json`): the Python and JavaScript versions of
//! this plugin answer every one of them with the same JSON, byte for byte.

#[test]
fn answers_every_shared_vector_as_expected() {
    let vectors = include_str!("../../vectors.json");
    let mismatches =
        winfactor_pricing_sdk::testing::check_vectors::<margin::Margin>(vectors, "margin");
    for (name, got, expected) in &mismatches {
        eprintln!("{name}\n  got      {got}\n  expected {expected}");
    }
    assert!(mismatches.is_empty(), "{} vectors differ", mismatches.len());
}
