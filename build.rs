//! Finds models.yml and permission.yml and writes `OUT_DIR/models.rs` and
//! `OUT_DIR/permissions.rs`, which expand the `models-macro` over them.
//!
//! The schema comes from `$OPENSLIDES_META_DIR/models.yml` when that variable is set, else
//! from the `meta/` git submodule.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::exit;

fn main() {
    println!("cargo:rerun-if-env-changed=OPENSLIDES_META_DIR");
    // A path that does not exist makes cargo run this script on every build, so an
    // empty submodule is watched as a folder.
    if Path::new("meta/models.yml").is_file() {
        println!("cargo:rerun-if-changed=meta/models.yml");
    } else if Path::new("meta").is_dir() {
        println!("cargo:rerun-if-changed=meta");
    }

    let models_yml = find_models_yml();
    println!("cargo:rerun-if-changed={}", models_yml.display());

    let permission_yml = models_yml.with_file_name("permission.yml");
    if !permission_yml.is_file() {
        eprintln!(
            "error: permission.yml not found at {}; it belongs beside models.yml",
            permission_yml.display()
        );
        exit(1);
    }
    println!("cargo:rerun-if-changed={}", permission_yml.display());

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let literal = |path: &Path| format!("{:?}", path.display().to_string());
    let models = format!("models_macro::models!({});\n", literal(&models_yml));
    fs::write(out_dir.join("models.rs"), models).expect("write OUT_DIR/models.rs");
    let rules = format!(
        "models_macro::restriction_rules!({});\n",
        literal(&models_yml)
    );
    fs::write(out_dir.join("restriction_rules.rs"), rules)
        .expect("write OUT_DIR/restriction_rules.rs");
    let permissions = format!(
        "models_macro::permissions!({});\n",
        literal(&permission_yml)
    );
    fs::write(out_dir.join("permissions.rs"), permissions).expect("write OUT_DIR/permissions.rs");
}

fn find_models_yml() -> PathBuf {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let candidate = match env::var_os("OPENSLIDES_META_DIR") {
        Some(dir) => absolute(&manifest_dir, Path::new(&dir)).join("models.yml"),
        None => manifest_dir.join("meta").join("models.yml"),
    };
    if candidate.is_file() {
        return candidate.canonicalize().unwrap_or(candidate);
    }

    eprintln!(
        "error: models.yml not found at {}.\n\
         Provide the OpenSlides schema in one of two ways:\n  \
         1. check out the meta submodule: git submodule update --init meta\n  \
         2. set OPENSLIDES_META_DIR to a folder that contains models.yml",
        candidate.display()
    );
    exit(1);
}

fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}
