//! Generates the C header with cbindgen and checks it against the committed
//! `include/h3q.h`.
//!
//! The header is part of the source tree. A build whose generated header differs from the
//! committed one fails, so a stale header can never ship. To accept the change, run
//! `H3Q_REGENERATE_HEADER=1 cargo build` and commit `include/h3q.h`.

use std::env;
use std::fs;
use std::path::PathBuf;

#[path = "build_support/header.rs"]
mod header;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let committed = crate_dir.join("include").join("h3q.h");
    let fresh = env::var("OUT_DIR")
        .map(PathBuf::from)
        .expect("set by cargo")
        .join("h3q.h");

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build_support");
    println!("cargo:rerun-if-changed=include/h3q.h");
    println!("cargo:rerun-if-env-changed=H3Q_REGENERATE_HEADER");

    set_soname();

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    config.after_includes = Some(version_macros());

    let mut raw = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can generate the header")
        .write(&mut raw);
    let raw = String::from_utf8(raw).expect("cbindgen writes UTF-8");
    let fresh_text = header::arrange(&raw).unwrap_or_else(|e| panic!("include/h3q.h: {e}"));
    fs::write(&fresh, &fresh_text).expect("OUT_DIR is writable");
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

/// Gives the Linux shared library its SONAME: `libh3q.so.0.<minor>` while the major version
/// is 0 (0.x releases may break the ABI at each minor), `libh3q.so.<major>` after that.
/// cmake/CargoBuild.cmake computes the same name.
fn set_soname() {
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
    let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("set by cargo");
    let soname = if major == "0" {
        format!("libh3q.so.0.{minor}")
    } else {
        format!("libh3q.so.{major}")
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
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
