//! The `flashpoint` command line.
fn main() {}
