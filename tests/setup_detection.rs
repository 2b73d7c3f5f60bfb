//! The libclang detection of `scripts/dev`: it must answer as bindgen's own search would, so
//! that setup installs libclang exactly when the build could not find it.

use std::fs;
use std::path::Path;
use std::process::Command;

/// Runs `scripts/dev has-libclang` against a fake root; true when it reports libclang found.
fn detects(root: &Path, libclang_path: Option<&Path>) -> bool {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/dev");
    let mut cmd = Command::new("bash");
    cmd.arg(&script).arg("has-libclang").env("DEV_ROOT", root);
    match libclang_path {
        Some(p) => cmd.env("LIBCLANG_PATH", p),
        None => cmd.env_remove("LIBCLANG_PATH"),
    };
    let out = cmd.output().expect("run scripts/dev");
    match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        other => panic!(
            "has-libclang exited {other:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn tree(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        let p = dir.path().join(f);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, b"").unwrap();
    }
    dir
}

#[test]
fn only_libclang_cpp_is_not_libclang() {
    // Debian with clang's C++ library but without libclang-dev/libclang1: bindgen fails here.
    let t = tree(&[
        "usr/lib/llvm-14/lib/libclang-cpp.so.14",
        "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14",
        "usr/lib/llvm-14/lib/libclangBasic.a",
    ]);
    assert!(!detects(t.path(), None));
}

#[test]
fn an_empty_machine_has_no_libclang() {
    let t = tree(&["usr/lib/x86_64-linux-gnu/libc.so.6"]);
    assert!(!detects(t.path(), None));
}

#[test]
fn versioned_and_plain_names_that_bindgen_loads_are_found() {
    for name in [
        "usr/lib/llvm-14/lib/libclang.so",
        "usr/lib/llvm-14/lib/libclang-14.so",
        "usr/lib/llvm-16/lib/libclang-16.so.16",
        "usr/lib/x86_64-linux-gnu/libclang-14.so.1",
        "usr/lib/x86_64-linux-gnu/libclang.so.1",
        "usr/lib64/libclang.so",
        "usr/local/lib/libclang.so.18.1",
    ] {
        let t = tree(&[name, "usr/lib/llvm-14/lib/libclang-cpp.so.14"]);
        assert!(detects(t.path(), None), "{name} should count as libclang");
    }
}

#[test]
fn libclang_path_is_honoured_as_folder_or_file() {
    let empty = tree(&[]);
    let t = tree(&[
        "opt/llvm/lib/libclang.so.17",
        "opt/other/libclang-cpp.so.17",
    ]);
    assert!(detects(empty.path(), Some(&t.path().join("opt/llvm/lib"))));
    assert!(detects(
        empty.path(),
        Some(&t.path().join("opt/llvm/lib/libclang.so.17"))
    ));
    assert!(!detects(
        empty.path(),
        Some(&t.path().join("opt/other/libclang-cpp.so.17"))
    ));
    assert!(!detects(empty.path(), Some(&t.path().join("opt/other"))));
}
