//! Bad input gets errors, never a panic: arbitrary bytes and random mutations of a
//! valid config always produce `Ok` or a non-empty list of positioned errors.

use policy::load_str;
use proptest::prelude::*;

const EXAMPLE: &str = include_str!("../../../configs/example.yaml");

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    match load_str("fuzz.yaml", bytes) {
        Ok(loaded) => {
            prop_assert!(!loaded.tables.pools().is_empty());
            prop_assert_eq!(loaded.tables.hash().len(), 64);
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            for e in errors.iter() {
                prop_assert!(e.line >= 1 && e.column >= 1, "{}", e);
                prop_assert!(!e.message.is_empty());
                // The span-aware validation must catch everything the typed parse would.
                prop_assert!(!e.message.contains("YAML readers disagree"), "{}", e);
            }
        }
    }
    Ok(())
}

/// Characters that matter to YAML and to the config format.
const SPICE: &[&str] = &[
    ":", "-", "[", "]", "{", "}", ",", "\"", "'", "#", "&a", "*a", "!", "|", ">", "\t", "\n", " ",
    "<<: ", "---\n", "~", "/", "/33", "::", "0", "65536", "587", "é", "\u{feff}", "\r\n",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 0..SPICE.len()).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 1usize..200).prop_map(|(at, n)| Edit::Duplicate(at, n)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> Vec<u8> {
    let mut b = text.as_bytes().to_vec();
    for e in edits {
        let len = b.len().max(1);
        match *e {
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(b.len());
                if at < end {
                    b.drain(at..end);
                }
            }
            Edit::Insert(at, s) => {
                let at = at % (b.len() + 1);
                b.splice(at..at, SPICE[s].bytes());
            }
            Edit::Duplicate(at, n) => {
                let at = at % len;
                let end = (at + n).min(b.len());
                let chunk: Vec<u8> = b.get(at..end).map(<[u8]>::to_vec).unwrap_or_default();
                b.splice(at..at, chunk);
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes)?;
    }

    #[test]
    fn mutated_example_never_panics(edits in prop::collection::vec(edit(), 1..6)) {
        check(&apply(EXAMPLE, &edits))?;
    }
}

/// Scalars whose type YAML readers could disagree on.
const TRICKY: &[&str] = &[
    "0x19",
    "+25",
    "025",
    "0o31",
    "0b11",
    "1_000",
    "1e3",
    "25.0",
    ".5",
    "~",
    "null",
    "''",
    "\"\"",
    "True",
    "TRUE",
    "yes",
    "off",
    "-0",
    "+0",
    "0",
    "-1",
    ".inf",
    "-.inf",
    ".nan",
    "0x",
    "+",
    "-",
    "99999999999",
    "4294967296",
    "1:30",
    "2001:db8::/32",
    "[]",
    "{}",
    "!!str 25",
    "&x 25",
    "\"25\"",
    "'rst'",
    "rst",
    "Drop",
    "enforce ",
    "\"enforce\"",
    "1 # c",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// The span-aware validation and serde_yaml agree on scalar types in every typed field.
    #[test]
    fn both_yaml_readers_agree_on_tricky_scalars(
        picks in prop::collection::vec(0..TRICKY.len(), 7),
        which in 0usize..7,
    ) {
        let v = |i: usize| if i == which { TRICKY[picks[i]] } else { "" };
        let or = |s: &'static str, d: &'static str| if s.is_empty() { d } else { s };
        let yaml = format!(
            "version: {}\nblocked_ports: [{}]\ndefault_action: {}\npools:\n  - name: {}\n    mode: {}\n    prefixes: [198.51.100.0/24]\ninbound: {{enabled: {}}}\nreply: {{rate_per_sec: {}}}\n",
            or(v(0), "1"), or(v(1), "25"), or(v(2), "rst"), or(v(3), "a"), or(v(4), "enforce"),
            or(v(5), "true"), or(v(6), "100"),
        );
        check(yaml.as_bytes())?;
    }
}
