//! A create whose answer was lost. The SDK retries a request that failed
//! in transit (a reset, a 5xx from a load balancer) — but the first one may
//! have been done: the retry then meets "already exists". Most create
//! calls (CreateRole, CreateRepository, CreateFunction,
//! CreateOpenIDConnectProvider) take no client token, so gantry recognises
//! its own work by the ownership tags the lost request carried, and carries
//! on; anything else of that name is still refused.

use crate::core::error::{ErrorClass, ProviderError};
use crate::core::Owner;
use crate::core::{owner_of, TAG_ADDRESS};
use std::collections::BTreeMap;

/// Whether a create failed because the thing already exists.
pub(crate) fn already_exists(e: &ProviderError) -> bool {
    let m = e.message.to_ascii_lowercase();
    (e.class == ErrorClass::Conflict && m.contains("alreadyexists")) || m.contains("already exist")
}

/// Whether tags say the resource is this block's.
pub(crate) fn is_ours(tags: &BTreeMap<String, String>, owner: &Owner) -> bool {
    owner_of(tags).as_ref() == Some(&owner.stack) && tags.get(TAG_ADDRESS) == Some(&owner.address)
}

/// After "already exists": carry on when the resource found (its tags, if
/// it could be read) is this block's own, else fail with the original error.
pub(crate) fn carry_on_if_ours(e: ProviderError, found: Option<BTreeMap<String, String>>, what: &str, owner: &Owner) -> Result<(), ProviderError> {
    match found {
        Some(tags) if is_ours(&tags, owner) => {
            owner.note(format!("{what} was created by a request whose answer was lost (it carries this block's tags): carrying on"));
            Ok(())
        }
        _ => Err(ProviderError { message: format!("{} ({what} exists and is not tagged as this block's)", e.message), ..e }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_tagged_resource_is_carried_on() {
        let owner = Owner { stack: "s".into(), address: "ci_role.a".into(), protect: false, notes: None };
        let e = ProviderError::aws(ErrorClass::Conflict, "iam", "CreateRole", "EntityAlreadyExists: Role with name a already exists.");
        assert!(already_exists(&e));
        assert!(already_exists(&ProviderError::aws(ErrorClass::Other, "lambda", "CreateFunction", "ResourceConflictException: Function already exist: f")));
        assert!(!already_exists(&ProviderError::aws(ErrorClass::Conflict, "ecr", "DeleteRepository", "RepositoryNotEmptyException: x")));
        let ours = owner.with_ownership(BTreeMap::new());
        assert!(carry_on_if_ours(e.clone(), Some(ours), "role a", &owner).is_ok());
        let theirs = BTreeMap::from([(crate::core::TAG_STACK.to_string(), "other".to_string())]);
        let err = carry_on_if_ours(e.clone(), Some(theirs), "role a", &owner).unwrap_err();
        assert!(err.message.contains("not tagged as this block's"), "{err}");
        assert!(carry_on_if_ours(e, None, "role a", &owner).is_err());
    }
}
