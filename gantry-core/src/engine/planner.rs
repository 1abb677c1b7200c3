//! Pure planning for one kind: match desired instances to live resources by
//! ownership tags, then choose an action for each. No I/O.
//!
//! Matching rules:
//! - a live resource tagged with this stack and the desired address is that
//!   resource (a different name then means replace);
//! - otherwise a live resource with the desired name is: ours under an
//!   address no longer declared (a moved block: ownership is updated in
//!   place); unowned (an error unless the address is adopted); or another
//!   stack's (always an error);
//! - live resources owned by this stack that match nothing are deleted.

use crate::core::{Action, AttrChange, Change, Op};
use crate::core::{Field, LiveResource, State};
use crate::engine::diff::{choose_action, fingerprint};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A desired resource instance ready for planning.
#[derive(Debug, Clone)]
pub struct DesiredInstance {
    /// The block's address.
    pub address: String,
    /// Its cloud name.
    pub identity: String,
    /// Its comparable desired state.
    pub state: State,
    /// The block says `protect = true`.
    pub protect: bool,
    /// Addresses it waits for.
    pub depends_on: Vec<String>,
}

pub use crate::core::Diagnostic;

/// The planned outcome for one kind.
#[derive(Debug, Default)]
pub struct KindPlan {
    /// What must change.
    pub changes: Vec<Change>,
    /// Addresses that need nothing.
    pub unchanged: Vec<String>,
    /// Hash of the live state read per address (a saved plan checks it).
    pub fingerprints: BTreeMap<String, String>,
    /// Why the kind cannot be planned (refuses the plan).
    pub errors: Vec<Diagnostic>,
}

/// What the user allowed beyond the default rules.
#[derive(Clone, Copy)]
pub struct Allowances<'a> {
    /// Addresses to adopt (`import` blocks).
    pub adopt: &'a BTreeSet<String>,
    /// `--adopt`: adopt every unowned clash.
    pub adopt_all: bool,
    /// `--allow-delete ADDR`: protected resources that may be deleted.
    pub allow_delete: &'a BTreeSet<String>,
    /// The kind's `live_problem`: why a live resource cannot be planned
    /// from. For an unowned clash it is said instead of the generic clash
    /// error; for one the stack owns it is an error of its own.
    pub problem: Option<&'a LiveProblem>,
}

/// A kind's reason a live resource cannot be planned (see `Kind::live_problem`).
pub type LiveProblem = dyn Fn(&LiveResource) -> Option<String>;

/// Plans one kind, in stages: each desired instance is matched to what
/// lives (by the address it owns, else by its identity, refusing a clash
/// with what is not its to take), its action chosen, ownership changes
/// added, protection judged; then what the stack owns and no block
/// declares is deleted, and live states no plan can proceed from are said.
pub fn plan_kind(kind: &str, fields: &[Field], stack: &str, desired: &[DesiredInstance], live: &[LiveResource], allow: Allowances) -> KindPlan {
    let matcher = Matcher::new(kind, stack, desired, live);
    let mut out = KindPlan::default();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    for d in desired {
        let matched = match matcher.find(d, allow) {
            Ok(m) => m,
            Err(e) => {
                out.errors.push(*e);
                continue;
            }
        };
        if let Some((i, retag)) = matched {
            used.insert(i);
            if let Some(e) = matcher.rename_clash(d, i).filter(|_| !retag) {
                out.errors.push(e);
                continue;
            }
        }
        let live_res = matched.map(|(i, _)| &live[i]);
        out.fingerprints.insert(d.address.clone(), fingerprint(live_res));
        match plan_instance(kind, fields, stack, d, matched.map(|(i, retag)| (&live[i], retag)), allow) {
            Ok(Some(change)) => out.changes.push(change),
            Ok(None) => out.unchanged.push(d.address.clone()),
            Err(e) => out.errors.push(*e),
        }
    }
    for (i, l) in live.iter().enumerate().filter(|(i, l)| !used.contains(i) && matcher.ours(l)) {
        let address = l.owner_address.clone().unwrap_or_else(|| format!("{kind}.{}", l.identity));
        out.fingerprints.insert(address.clone(), fingerprint(Some(&live[i])));
        match plan_delete(kind, address, l, allow) {
            Ok(change) => out.changes.push(change),
            Err(e) => out.errors.push(*e),
        }
    }
    // A resource the stack owns (any address) in a state no plan can proceed from.
    for l in live.iter().filter(|l| l.owner_stack.as_deref() == Some(stack)) {
        if let Some(message) = allow.problem.and_then(|p| p(l)) {
            let address = l.owner_address.clone().unwrap_or_else(|| l.identity.clone());
            out.errors.push(Diagnostic::at(address, message));
        }
    }
    out
}

/// What lives, indexed for matching desired instances to it.
struct Matcher<'a> {
    kind: &'a str,
    stack: &'a str,
    /// `KIND.`: ours means tagged with this stack *and* an address of this
    /// kind (resources a CloudFormation stack of ours creates inherit its
    /// tags, but belong to it).
    prefix: String,
    live: &'a [LiveResource],
    by_address: HashMap<&'a str, usize>,
    by_identity: HashMap<&'a str, usize>,
    desired_addresses: BTreeSet<&'a str>,
}

impl<'a> Matcher<'a> {
    fn new(kind: &'a str, stack: &'a str, desired: &'a [DesiredInstance], live: &'a [LiveResource]) -> Self {
        let prefix = format!("{kind}.");
        let ours = |l: &LiveResource| l.owner_stack.as_deref() == Some(stack) && l.owner_address.as_deref().is_some_and(|a| a.starts_with(&prefix));
        let by_address = live.iter().enumerate().filter(|(_, l)| ours(l)).filter_map(|(i, l)| l.owner_address.as_deref().map(|a| (a, i))).collect();
        let by_identity = live.iter().enumerate().map(|(i, l)| (l.identity.as_str(), i)).collect();
        let desired_addresses = desired.iter().map(|d| d.address.as_str()).collect();
        Matcher { kind, stack, prefix, live, by_address, by_identity, desired_addresses }
    }

    fn ours(&self, l: &LiveResource) -> bool {
        l.owner_stack.as_deref() == Some(self.stack) && l.owner_address.as_deref().is_some_and(|a| a.starts_with(&self.prefix))
    }

    /// The live resource a desired instance is (index, and whether its
    /// ownership must be rewritten: a moved block or an adoption), none
    /// for one to create, or why it may not be taken.
    fn find(&self, d: &DesiredInstance, allow: Allowances) -> Result<Option<(usize, bool)>, Box<Diagnostic>> {
        let kind = self.kind;
        if let Some(&i) = self.by_address.get(d.address.as_str()) {
            return Ok(Some((i, false)));
        }
        let Some(&i) = self.by_identity.get(d.identity.as_str()) else { return Ok(None) };
        let l = &self.live[i];
        let found: Result<_, Diagnostic> = match (&l.owner_stack, &l.owner_address) {
            (Some(s), Some(a)) if s == self.stack && a.starts_with(&self.prefix) && !self.desired_addresses.contains(a.as_str()) => Ok(Some((i, true))),
            (Some(s), Some(a)) if s == self.stack => {
                Err(Diagnostic::at(d.address.clone(), format!("{kind} \"{}\" already belongs to {a} in this stack", d.identity))
                    .with_note("two blocks cannot manage the same resource; change one name"))
            }
            (Some(s), a) => Err(Diagnostic::at(
                d.address.clone(),
                format!("{kind} \"{}\" is managed by stack \"{s}\"{}", d.identity, a.as_ref().map(|a| format!(" ({a})")).unwrap_or_default()),
            )
            .with_note("gantry never touches another stack's resources; choose another name or remove it from that stack")),
            (None, _) if let Some(why) = allow.problem.and_then(|p| p(l)) => Err(Diagnostic::at(d.address.clone(), why)),
            (None, _) if allow.adopt_all || allow.adopt.contains(&d.address) => Ok(Some((i, true))),
            (None, _) => Err(Diagnostic::at(d.address.clone(), format!("{kind} \"{}\" already exists and is not managed by gantry", d.identity)).with_note(
                format!("to manage it, adopt it: add `import {{ to = {} }}` to the stack (or run with --adopt); otherwise choose another name", d.address),
            )),
        };
        found.map_err(Box::new)
    }

    /// A rename (a replace) must not land on a name someone else holds:
    /// the create would fail after the old resource was deleted.
    fn rename_clash(&self, d: &DesiredInstance, i: usize) -> Option<Diagnostic> {
        let &j = self.by_identity.get(d.identity.as_str()).filter(|&&j| j != i && self.live[i].identity != d.identity)?;
        let l = &self.live[j];
        let holder = match (&l.owner_stack, &l.owner_address) {
            (Some(s), Some(a)) if s == self.stack => format!("{a} in this stack"),
            (Some(s), a) => format!("stack \"{s}\"{}", a.as_ref().map(|a| format!(" ({a})")).unwrap_or_default()),
            (None, _) => "a resource gantry does not manage".into(),
        };
        Some(
            Diagnostic::at(d.address.clone(), format!("{} \"{}\" (the new name) already belongs to {holder}", self.kind, d.identity))
                .with_note("the replacement would fail after deleting the current one; choose another name"),
        )
    }
}

/// One desired instance's change (None: nothing to do), given what it
/// matched (and whether its ownership is rewritten), or why it is refused.
fn plan_instance(
    kind: &str,
    fields: &[Field],
    stack: &str,
    d: &DesiredInstance,
    matched: Option<(&LiveResource, bool)>,
    allow: Allowances,
) -> Result<Option<Change>, Box<Diagnostic>> {
    let live_res = matched.map(|(l, _)| l);
    let (mut action, mut attrs) = choose_action(fields, Some(&d.state), live_res.map(|l| &l.state));
    let mut reason = None;
    if let Some((l, retag)) = matched {
        // A moved block, an adopted resource, or protection turned on or
        // off: the ownership tags change in place.
        if action != Action::Replace && (retag || l.protected != d.protect) {
            attrs.push(AttrChange {
                name: "owner".into(),
                before: owner_value(l),
                after: json!(owner_text(stack, &d.address, d.protect)),
                forces_replacement: false,
                sensitive: false,
                known_after_apply: false,
            });
            if action == Action::NoOp {
                action = Action::Update;
            }
            reason = Some(ownership_reason(l, retag, d.protect).to_string());
        }
    }
    if action == Action::Replace {
        let forced: Vec<&str> = attrs.iter().filter(|a| a.forces_replacement).map(|a| a.name.as_str()).collect();
        reason = Some(format!("{} cannot be changed in place", forced.join(", ")));
        let recorded = live_res.is_some_and(|l| l.protected) && !allow.allow_delete.contains(&d.address);
        if d.protect || recorded {
            return Err(Box::new(
                Diagnostic::at(d.address.clone(), format!("{} is protected but the change to {} requires replacing it", d.address, forced.join(", ")))
                    .with_note(format!("revert that change, or remove protect = true and apply first (or name it: --allow-delete {})", d.address)),
            ));
        }
    }
    // Something is desired here, so the action is a create (nothing
    // matched), an update or a replace; deletes are plan_delete's.
    let desired = d.state.clone();
    let op = match (action, live_res.cloned()) {
        (Action::NoOp, _) => return Ok(None),
        (_, None) => Op::Create { desired },
        (Action::Replace, Some(live)) => Op::Replace { desired, live },
        (_, Some(live)) => Op::Update { desired, live },
    };
    Ok(Some(Change {
        address: d.address.clone(),
        kind: kind.to_string(),
        identity: d.identity.clone(),
        op,
        reason,
        attrs,
        depends_on: d.depends_on.clone(),
        notes: Vec::new(),
        protect: d.protect,
    }))
}

/// Why a matched resource's ownership record changes.
fn ownership_reason(l: &LiveResource, retag: bool, protect: bool) -> &'static str {
    match (retag, protect) {
        (false, true) => "protect = true: recorded on the resource",
        (false, false) => "protect removed from the resource",
        (true, _) if l.owner_stack.is_none() => "adopted: gantry takes ownership",
        (true, _) => "moved: block address changed",
    }
}

/// The delete of a resource the stack owns that no block declares, unless
/// it is protected.
fn plan_delete(kind: &str, address: String, l: &LiveResource, allow: Allowances) -> Result<Change, Box<Diagnostic>> {
    if l.protected && !allow.allow_delete.contains(&address) {
        // Recorded on the resource, so a removed block (or destroy) cannot delete it by accident.
        return Err(Box::new(
            Diagnostic::at(address.clone(), format!("{address} ({}) is protected; it is not deleted", l.identity))
                .with_note(format!("to delete it, name it: --allow-delete {address} (or set protect = false on its block and apply first)")),
        ));
    }
    Ok(Change {
        address,
        kind: kind.to_string(),
        identity: l.identity.clone(),
        op: Op::Delete { live: l.clone() },
        reason: Some("no longer in the stack files".into()),
        attrs: Vec::new(),
        depends_on: Vec::new(),
        notes: Vec::new(),
        protect: false,
    })
}

fn owner_text(stack: &str, address: &str, protected: bool) -> String {
    format!("{stack}/{address}{}", if protected { " (protected)" } else { "" })
}

fn owner_value(l: &LiveResource) -> Value {
    match (&l.owner_stack, &l.owner_address) {
        (Some(s), Some(a)) => json!(owner_text(s, a, l.protected)),
        _ => Value::Null,
    }
}

/// Finds the live resource an address refers to, with the planner's
/// priority: this stack's resource tagged with the address, else the
/// resource with that cloud name.
pub fn locate<'a>(stack: &str, address: &str, identity: &str, live: &'a [LiveResource]) -> Option<&'a LiveResource> {
    live.iter()
        .find(|l| l.owner_stack.as_deref() == Some(stack) && l.owner_address.as_deref() == Some(address))
        .or_else(|| live.iter().find(|l| l.identity == identity))
}

#[cfg(test)]
mod tests {
    use super::*;

    static FIELDS: &[Field] = &[Field::replace("name"), Field::new("size")];

    fn desired(addr: &str, name: &str, size: i64) -> DesiredInstance {
        DesiredInstance {
            address: addr.into(),
            identity: name.into(),
            state: json!({"name": name, "size": size}).as_object().unwrap().clone(),
            protect: false,
            depends_on: vec![],
        }
    }

    static NONE: std::sync::LazyLock<BTreeSet<String>> = std::sync::LazyLock::new(BTreeSet::new);

    fn allow(adopt: &BTreeSet<String>, adopt_all: bool) -> Allowances<'_> {
        Allowances { adopt, adopt_all, allow_delete: &NONE, problem: None }
    }

    fn live(name: &str, size: i64, owner: Option<(&str, &str)>) -> LiveResource {
        LiveResource {
            identity: name.into(),
            owner_stack: owner.map(|o| o.0.to_string()),
            owner_address: owner.map(|o| o.1.to_string()),
            state: json!({"name": name, "size": size}).as_object().unwrap().clone(),
            protected: false,
        }
    }

    fn actions(p: &KindPlan) -> Vec<(String, Action)> {
        p.changes.iter().map(|c| (c.address.clone(), c.action())).collect()
    }

    #[test]
    fn create_update_delete_and_noop() {
        let d = vec![desired("k.a", "a", 1), desired("k.b", "b", 2), desired("k.c", "c", 3)];
        let l = vec![live("b", 2, Some(("s", "k.b"))), live("c", 1, Some(("s", "k.c"))), live("gone", 1, Some(("s", "k.gone")))];
        let p = plan_kind("k", FIELDS, "s", &d, &l, allow(&BTreeSet::new(), false));
        assert_eq!(actions(&p), vec![("k.a".into(), Action::Create), ("k.c".into(), Action::Update), ("k.gone".into(), Action::Delete)]);
        assert_eq!(p.unchanged, vec!["k.b".to_string()]);
        assert!(p.errors.is_empty());
        assert_eq!(p.fingerprints["k.a"], "absent");
    }

    #[test]
    fn rename_is_replace_with_reason() {
        let p = plan_kind("k", FIELDS, "s", &[desired("k.a", "new", 1)], &[live("old", 1, Some(("s", "k.a")))], allow(&BTreeSet::new(), false));
        assert_eq!(actions(&p), vec![("k.a".into(), Action::Replace)]);
        assert!(p.changes[0].reason.as_ref().unwrap().contains("name"));
    }

    #[test]
    fn a_rename_onto_a_name_someone_holds_is_refused() {
        for (holder, says) in [(Some(("other", "k.x")), "stack \"other\" (k.x)"), (None, "gantry does not manage"), (Some(("s", "k.b")), "k.b in this stack")] {
            let l = [live("old", 1, Some(("s", "k.a"))), live("new", 1, holder)];
            let p = plan_kind("k", FIELDS, "s", &[desired("k.a", "new", 1), desired("k.b", "b2", 1)], &l, allow(&BTreeSet::new(), false));
            assert_eq!(p.errors.len(), 1, "{holder:?}");
            assert!(p.errors[0].message.contains(says), "{}", p.errors[0].message);
            assert!(p.changes.iter().all(|c| c.address != "k.a"), "neither a replacement nor a delete: {:?}", actions(&p));
        }
    }

    #[test]
    fn unowned_clash_is_an_error_unless_adopted() {
        let d = [desired("k.a", "a", 1)];
        let l = [live("a", 1, None)];
        let p = plan_kind("k", FIELDS, "s", &d, &l, allow(&BTreeSet::new(), false));
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].notes[0].contains("import"));
        let adopt: BTreeSet<String> = ["k.a".to_string()].into();
        let p = plan_kind("k", FIELDS, "s", &d, &l, allow(&adopt, false));
        assert!(p.errors.is_empty());
        assert_eq!(actions(&p), vec![("k.a".into(), Action::Update)]);
        assert_eq!(p.changes[0].attrs[0].name, "owner");
    }

    #[test]
    fn other_stacks_and_unowned_are_never_deleted() {
        let l = vec![live("x", 1, Some(("other", "k.x"))), live("y", 1, None)];
        let p = plan_kind("k", FIELDS, "s", &[], &l, allow(&BTreeSet::new(), false));
        assert!(p.changes.is_empty());
        let p = plan_kind("k", FIELDS, "s", &[desired("k.x", "x", 1)], &l, allow(&BTreeSet::new(), true));
        assert!(p.errors[0].message.contains("managed by stack \"other\""));
    }

    #[test]
    fn resources_tagged_with_another_kinds_address_are_not_deleted() {
        // e.g. an IAM role created by an agent_queue's CloudFormation stack inherits its tags.
        let l = vec![live("role", 1, Some(("s", "agent_queue.q")))];
        let p = plan_kind("k", FIELDS, "s", &[], &l, allow(&BTreeSet::new(), false));
        assert!(p.changes.is_empty(), "{:?}", p.changes);
    }

    #[test]
    fn moved_block_retags_instead_of_recreating() {
        let p = plan_kind("k", FIELDS, "s", &[desired("k.new", "a", 1)], &[live("a", 1, Some(("s", "k.old")))], allow(&BTreeSet::new(), false));
        assert_eq!(actions(&p), vec![("k.new".into(), Action::Update)]);
        assert_eq!(p.changes[0].reason.as_deref(), Some("moved: block address changed"));
    }

    #[test]
    fn protected_replace_is_refused() {
        let mut d = desired("k.a", "new", 1);
        d.protect = true;
        let p = plan_kind("k", FIELDS, "s", &[d], &[live("old", 1, Some(("s", "k.a")))], allow(&BTreeSet::new(), false));
        assert!(p.changes.is_empty());
        assert!(p.errors[0].message.contains("protected"));
    }

    #[test]
    fn protection_recorded_on_a_resource_guards_its_deletion() {
        let mut l = live("keep", 1, Some(("s", "k.keep")));
        l.protected = true;
        // Its block removed (or destroy): refused, the way out named.
        let p = plan_kind("k", FIELDS, "s", &[], std::slice::from_ref(&l), allow(&NONE, false));
        assert!(p.changes.is_empty());
        assert!(p.errors[0].message.contains("k.keep (keep) is protected") && p.errors[0].notes[0].contains("--allow-delete k.keep"), "{:?}", p.errors);
        // Named: deleted.
        let named: BTreeSet<String> = ["k.keep".to_string()].into();
        let p = plan_kind("k", FIELDS, "s", &[], std::slice::from_ref(&l), Allowances { adopt: &NONE, adopt_all: false, allow_delete: &named, problem: None });
        assert_eq!(actions(&p), vec![("k.keep".into(), Action::Delete)]);
        // protect = true on an unprotected resource is recorded in place (a tag), and back.
        let mut d = desired("k.keep", "keep", 1);
        d.protect = true;
        let unprotected = live("keep", 1, Some(("s", "k.keep")));
        let p = plan_kind("k", FIELDS, "s", std::slice::from_ref(&d), &[unprotected], allow(&NONE, false));
        assert_eq!(actions(&p), vec![("k.keep".into(), Action::Update)]);
        assert_eq!(p.changes[0].attrs[0].after, json!("s/k.keep (protected)"));
        assert!(p.changes[0].protect);
        d.protect = false;
        let p = plan_kind("k", FIELDS, "s", &[d], &[l], allow(&NONE, false));
        assert_eq!(p.changes[0].attrs[0].before, json!("s/k.keep (protected)"));
        assert_eq!(p.changes[0].attrs[0].after, json!("s/k.keep"));
    }
}
