//! The rules of one comparable field: what a difference in it means.

use super::Compare;

/// One comparable field of a kind's state, with the rules that decide how
/// a difference in it is planned.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// A change of this field cannot be made in place.
    pub forces_replacement: bool,
    /// Never print its value.
    pub sensitive: bool,
    /// The server chooses a value when the user gives none (a default
    /// subnetwork, service account, computed thumbprint): while the desired
    /// value is unset (null) the live value is accepted as it is, and a
    /// create shows it as "(known after apply)".
    pub server_filled: bool,
    /// How desired and live values compare.
    pub compare: Compare,
}

impl Field {
    pub const fn new(name: &'static str) -> Field {
        Field { name, forces_replacement: false, sensitive: false, server_filled: false, compare: Compare::Exact }
    }
    pub const fn replace(name: &'static str) -> Field {
        Field { forces_replacement: true, ..Field::new(name) }
    }
    /// The server fills this field when the user leaves it unset.
    pub const fn server_filled(self) -> Field {
        Field { server_filled: true, ..self }
    }
    /// Compare values under `rule` instead of exactly.
    pub const fn compare(self, rule: Compare) -> Field {
        Field { compare: rule, ..self }
    }
}
