//! `scripts/new-check` on a copy of the registry files: the module it writes, the registry line
//! and the CheckId variant it adds, and the names it refuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A scratch root holding copies of src/checks/mod.rs and id.rs.
fn scratch(name: &str) -> PathBuf {
    let root =
        std::env::temp_dir().join(format!("dbdoctor-new-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let checks = root.join("src/checks");
    std::fs::create_dir_all(&checks).unwrap();
    for f in ["mod.rs", "id.rs", "json_column.rs"] {
        std::fs::copy(Path::new(REPO).join("src/checks").join(f), checks.join(f)).unwrap();
    }
    root
}

fn new_check(root: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(Path::new(REPO).join("scripts/new-check"))
        .args(args)
        .env("DBDOCTOR_ROOT", root)
        .output()
        .expect("bash runs")
}

fn read(root: &Path, f: &str) -> String {
    std::fs::read_to_string(root.join("src/checks").join(f)).unwrap()
}

#[test]
fn scaffolds_the_module_the_registry_line_and_the_variant() {
    let root = scratch("ok");
    let before_mod = read(&root, "mod.rs");
    let out = new_check(&root, &["orphan_sequence", "tables"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let module = read(&root, "orphan_sequence.rs");
    assert!(module.contains("id: CheckId::OrphanSequence,"));
    assert!(module.contains("section: Section::Tables,"));
    assert!(module.contains("sql: &[\"doctor_tables.sql\"],"));
    assert!(module.contains("pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding>"));
    assert!(module.contains("#[test]") && module.contains("is_empty()"));

    // The variant sits with the doctor checks, before the self-checks.
    let id = read(&root, "id.rs");
    let variant = id
        .find("    OrphanSequence = \"orphan_sequence\",\n")
        .expect("variant");
    assert!(variant < id.find("    // Self-checks of pg_stat_statements").unwrap());

    // Two lines added to the registry, nothing else changed: the module line among the check
    // modules, in the alphabetical order cargo fmt keeps, and the CHECK last in ALL.
    let after_mod = read(&root, "mod.rs");
    let check_modules = |text: &str| -> Vec<String> {
        text[text.find("\n// The check modules").unwrap()..]
            .lines()
            .skip_while(|l| l.starts_with("//") || l.is_empty())
            .take_while(|l| l.starts_with("pub mod "))
            .map(str::to_string)
            .collect()
    };
    let mut expected = check_modules(&before_mod);
    expected.push("pub mod orphan_sequence;".into());
    expected.sort();
    assert_eq!(check_modules(&after_mod), expected);
    let all = |text: &str| -> String {
        let block = &text[text.find("pub const ALL: &[Check] = &[").unwrap()..];
        block[..block.find("\n];\n").unwrap()].to_string()
    };
    assert_eq!(
        all(&after_mod),
        format!("{}\n    orphan_sequence::CHECK,", all(&before_mod))
    );
    let added: Vec<&str> = after_mod
        .lines()
        .filter(|l| !before_mod.lines().any(|b| b == *l))
        .collect();
    assert_eq!(
        added,
        ["pub mod orphan_sequence;", "    orphan_sequence::CHECK,"]
    );
    assert_eq!(after_mod.lines().count(), before_mod.lines().count() + 2);

    // The module it writes is formatted as cargo fmt would leave it.
    let fmt = Command::new("rustfmt")
        .args(["--check", "--edition", "2021"])
        .arg(root.join("src/checks/orphan_sequence.rs"))
        .output();
    if let Ok(fmt) = fmt {
        assert!(
            fmt.status.success(),
            "{}",
            String::from_utf8_lossy(&fmt.stdout)
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn refuses_existing_ids_bad_names_and_unknown_sections() {
    let root = scratch("refuse");
    let id_before = read(&root, "id.rs");
    let mod_before = read(&root, "mod.rs");

    let exists = new_check(&root, &["json_column"]);
    assert_eq!(exists.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&exists.stderr).contains("already exists"));

    // An id that exists as a variant without a module of this name (a self-check).
    let variant = new_check(&root, &["stats_recently_reset"]);
    assert_eq!(variant.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&variant.stderr).contains("already exists"));

    for bad in ["", "Bad-Name", "1st_check", "double__underscore"] {
        let out = new_check(&root, &[bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage"),
            "{bad}"
        );
    }
    let section = new_check(&root, &["fine_name", "disks"]);
    assert_eq!(section.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&section.stderr).contains("unknown section 'disks'"));

    // Nothing was written by the refusals.
    assert_eq!(read(&root, "id.rs"), id_before);
    assert_eq!(read(&root, "mod.rs"), mod_before);
    assert!(!root.join("src/checks/fine_name.rs").exists());
    std::fs::remove_dir_all(&root).unwrap();
}
