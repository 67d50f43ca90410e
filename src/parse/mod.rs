//! Text and trees: decoding files, parsing YAML/JSON into position-keeping trees.

pub mod gbk;
pub mod source;
pub mod tree;
pub mod yaml;
