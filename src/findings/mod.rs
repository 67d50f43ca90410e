//! What a run found, after the rules: waivers set findings aside.

pub mod waivers;
