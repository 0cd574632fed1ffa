//! The parents' texts are embedded from `locales/` with `include_dir!`, whose files Cargo
//! does not see: without this, an edited `.ftl` file would leave a build with the old texts.

fn main() {
    println!("cargo:rerun-if-changed=locales");
}
