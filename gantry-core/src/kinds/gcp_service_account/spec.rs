//! The `gcp_service_account` block and its comparable state as types.

use crate::core::error::{ErrorClass, ProviderError};
use crate::core::State;
use crate::kinds::common::gcp::iam_binding::{self, BindingBlock, Grants};
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};

/// The evaluated block (the loader checked the types and filled the defaults).
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct Spec {
    /// The account ID: ACCOUNT_ID@PROJECT.iam.gserviceaccount.com (6-30 lowercase letters, digits and -).
    #[schema(required, forces_replacement)]
    pub account_id: String,
    /// Display name (at most 100 characters).
    #[schema(default = "")]
    pub display_name: String,
    /// Description (at most 180 characters; gantry records ownership after it).
    #[schema(default = "")]
    pub description: String,
    /// IAM bindings on the service account (who may act as or impersonate it).
    #[schema(block = iam_binding::BLOCK)]
    pub iam_binding: Vec<BindingBlock>,
}

/// The comparable state, as the plan carries it and the driver reads it
/// back. A live account also has its `email` (and `unique_id`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Desired {
    /// The account ID: ACCOUNT_ID@PROJECT.iam.gserviceaccount.com (6-30 lowercase letters, digits and -).
    pub account_id: String,
    /// Display name (at most 100 characters).
    pub display_name: String,
    /// Description (at most 180 characters; gantry records ownership after it).
    pub description: String,
    /// Role to members, from the `iam_binding` blocks.
    pub iam: Grants,
    /// Live only: the address IAM calls the account by.
    #[serde(skip_serializing)]
    pub email: String,
}

impl Spec {
    /// The desired state this block asks for.
    pub fn desired(&self) -> Desired {
        Desired {
            account_id: self.account_id.clone(),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            iam: iam_binding::desired(&self.iam_binding),
            email: String::new(),
        }
    }
}

impl Desired {
    /// A state as the plan holds it (or a live one); the error names the call it was for.
    pub fn parse(state: &State, operation: &'static str) -> Result<Desired, ProviderError> {
        crate::kinds::common::read_desired(state).map_err(|e| ProviderError::google(ErrorClass::Other, "iam", operation, e))
    }

    /// As the plan's comparable state.
    pub fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
