//! `configs/op25b.schema.json` is generated from the `Config` types and must be current.
//! Regenerate with `OP25B_BLESS=1 cargo test -p policy --test schema`.

use std::path::PathBuf;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/op25b.schema.json")
}

#[test]
fn committed_json_schema_is_current() {
    let fresh = policy::json_schema_text();
    let path = schema_path();
    if std::env::var_os("OP25B_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("write the schema");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is out of date with the Config types; run `OP25B_BLESS=1 cargo test -p policy --test schema` and commit it",
        path.display()
    );
}

#[test]
fn schema_describes_the_contract() {
    let schema = policy::json_schema();
    let props = &schema["properties"];
    for key in [
        "version",
        "blocked_ports",
        "default_action",
        "pools",
        "relays",
        "scope",
        "inbound",
        "reply",
    ] {
        assert!(props.get(key).is_some(), "schema lacks `{key}`");
    }
    assert_eq!(schema["additionalProperties"], serde_json::json!(false));
    assert_eq!(schema["required"], serde_json::json!(["version", "pools"]));
    assert_eq!(
        props["blocked_ports"]["items"]["not"]["enum"],
        serde_json::json!([587, 465])
    );
    let text = policy::json_schema_text();
    for word in ["enforce", "monitor", "exempt", "rst", "icmp", "drop"] {
        assert!(text.contains(&format!("\"{word}\"")), "schema lacks {word}");
    }
}
