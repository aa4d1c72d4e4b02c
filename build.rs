//! Generates the C header with cbindgen and checks it against the committed
//! `include/h3q.h`.
//!
//! The header is part of the source tree. A build whose generated header differs from the
//! committed one fails, so a stale header can never ship. To accept the change, run
//! `H3Q_REGENERATE_HEADER=1 cargo build` and commit `include/h3q.h`.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let committed = crate_dir.join("include").join("h3q.h");
    let fresh = env::var("OUT_DIR")
        .map(PathBuf::from)
        .expect("set by cargo")
        .join("h3q.h");

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=include/h3q.h");
    println!("cargo:rerun-if-env-changed=H3Q_REGENERATE_HEADER");

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    config.after_includes = Some(version_macros());

    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can generate the header")
        .write_to_file(&fresh);

    let fresh_text = fs::read_to_string(&fresh).expect("fresh header readable");
    let committed_text = fs::read_to_string(&committed).unwrap_or_default();
    if fresh_text == committed_text {
        return;
    }
    if env::var_os("H3Q_REGENERATE_HEADER").is_some_and(|v| v != "0") {
        fs::create_dir_all(committed.parent().expect("include/")).expect("can create include/");
        fs::write(&committed, fresh_text).expect("can write include/h3q.h");
        return;
    }
    panic!(
        "include/h3q.h is stale: the exported API or its doc comments changed.\n\
         Regenerate it with `H3Q_REGENERATE_HEADER=1 cargo build` and commit it.\n\
         (fresh header: {})",
        fresh.display()
    );
}

/// `H3Q_VERSION_*` macros from the crate version, so C code can check at compile time what
/// `h3q_version()` reports at run time.
fn version_macros() -> String {
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
    let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("set by cargo");
    let patch = env::var("CARGO_PKG_VERSION_PATCH").expect("set by cargo");
    format!(
        "\n/** Major version of the h3q library this header belongs to. */\n\
         #define H3Q_VERSION_MAJOR {major}\n\
         /** Minor version of the h3q library this header belongs to. */\n\
         #define H3Q_VERSION_MINOR {minor}\n\
         /** Patch version of the h3q library this header belongs to. */\n\
         #define H3Q_VERSION_PATCH {patch}\n\
         /** The version as a string literal, equal to what h3q_version() returns. */\n\
         #define H3Q_VERSION_STRING \"{major}.{minor}.{patch}\"\n"
    )
}
