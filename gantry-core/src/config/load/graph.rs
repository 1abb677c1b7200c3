//! Stage 3: references checked and ordered. Every reference must name
//! something declared; locals and resources are ordered so each is
//! evaluated after what it uses, and every cycle is reported.

use super::collect::{DataDecl, Decls, LocalDecl, OutputDecl, ResourceDecl};
use super::{Loader, STACK_REFS};
use crate::config::diag::{did_you_mean, Diagnostic, FileId, SrcSpan};
use crate::config::refs::{self, Reference};
use crate::config::variables::VarDecl;
use crate::core::schema::Ty;
use hcl_edit::structure::{Body, Structure};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Node {
    Local(usize),
    Resource(usize),
    Data(usize),
    Output(usize),
}

/// Where references are made: a resource may use anything; a data block
/// is read before anything changes, so it may not use resources.
#[derive(Clone, Copy)]
pub(super) enum Within<'r, 'a> {
    Local,
    Resource(&'r ResourceDecl<'a>),
    Data,
}

/// What depends on what, and the order to evaluate in.
pub(super) struct Graph {
    pub edges: BTreeMap<Node, BTreeSet<Node>>,
    pub order: Vec<Node>,
    /// Nodes in a reference cycle (already reported).
    pub in_cycles: BTreeSet<Node>,
}

impl Loader<'_> {
    /// References of every local and resource (policy templates included).
    pub(super) fn graph(&mut self, d: &Decls) -> Graph {
        let mut edges: BTreeMap<Node, BTreeSet<Node>> = BTreeMap::new();
        for (i, l) in d.locals.iter().enumerate() {
            let refs = refs::collect(l.expr);
            let deps = self.check_refs(l.file, &refs, d, Within::Local);
            edges.insert(Node::Local(i), deps);
        }
        for (i, r) in d.resources.iter().enumerate() {
            let mut all = Vec::new();
            collect_body_refs(&r.block.body, &mut all);
            let mut deps = self.check_refs(r.file, &all, d, Within::Resource(r));
            let template_refs: Vec<(FileId, Vec<Reference>)> =
                self.templates.get(&i).map(|ts| ts.iter().map(|t| (t.file, refs::collect_template(&t.template))).collect()).unwrap_or_default();
            for (file, trefs) in template_refs {
                deps.extend(self.check_refs(file, &trefs, d, Within::Resource(r)));
            }
            edges.insert(Node::Resource(i), deps);
        }
        for (i, x) in d.data.iter().enumerate() {
            let mut all = Vec::new();
            collect_body_refs(&x.block.body, &mut all);
            let deps = self.check_refs(x.file, &all, d, Within::Data);
            // Through locals too: a data block is read before any resource exists.
            let via_resources = resource_deps(&edges_with(&edges, Node::Data(i), &deps), Node::Data(i), &d.resources);
            if let Some(first) = via_resources.iter().next() {
                self.diags.push(
                    Diagnostic::error(
                        format!("{} uses {first}, but data blocks are read at plan time, before any change is made", x.address()),
                        Some(x.span.clone()),
                    )
                    .with_note("give the value directly (a variable or local), or look the resource up with another data block"),
                );
            }
            edges.insert(Node::Data(i), deps);
        }
        for (i, o) in d.outputs.iter().enumerate() {
            let mut all = Vec::new();
            collect_body_refs(&o.block.body, &mut all);
            let deps = self.check_refs(o.file, &all, d, Within::Local);
            edges.insert(Node::Output(i), deps);
        }
        let (order, in_cycles) = self.topo_order(&edges, &d.locals, &d.resources, &d.data, &d.outputs);
        Graph { edges, order, in_cycles }
    }

    /// Checks each reference and returns the nodes it depends on.
    pub(super) fn check_refs(&mut self, file: FileId, refs: &[Reference], d: &Decls, place: Within) -> BTreeSet<Node> {
        let (vars, locals, resources): (&[VarDecl], &[LocalDecl], &[ResourceDecl]) = (&d.vars, &d.locals, &d.resources);
        let within = match place {
            Within::Resource(r) => Some(r),
            _ => None,
        };
        let mut deps = BTreeSet::new();
        for r in refs {
            let span = Some(SrcSpan { file, range: r.span.clone() });
            let attr = r.attr.as_deref();
            let problem: Option<Diagnostic> = match r.root.as_str() {
                "var" => match attr {
                    Some(a) if vars.iter().any(|v| v.name == a) => None,
                    Some(a) => Some(unknown("variable", &format!("var.{a}"), a, vars.iter().map(|v| v.name.as_str()), span.clone())),
                    None => Some(Diagnostic::error("`var` must be followed by a variable name, e.g. var.region", span.clone())),
                },
                "local" => match attr.and_then(|a| locals.iter().position(|l| l.name == a)) {
                    Some(i) => {
                        deps.insert(Node::Local(i));
                        None
                    }
                    None => {
                        let a = attr.unwrap_or("");
                        Some(unknown("local value", &format!("local.{a}"), a, locals.iter().map(|l| l.name.as_str()), span.clone()))
                    }
                },
                // Policy templates see `policy.NAME` (from policy_vars).
                "policy" if within.is_some_and(|w| w.kind.schema().attrs.iter().any(|a| a.ty == Ty::PolicyFiles)) => None,
                "stack" => match attr {
                    Some(a) if STACK_REFS.contains(&a) => None,
                    _ => {
                        Some(unknown("stack attribute", &format!("stack.{}", attr.unwrap_or("")), attr.unwrap_or(""), STACK_REFS.iter().copied(), span.clone()))
                    }
                },
                "data" => match (attr, r.attr2.as_deref()) {
                    (Some(source), Some(name)) => match d.data.iter().position(|x| x.source.name() == source && x.name == name) {
                        Some(i) => {
                            deps.insert(Node::Data(i));
                            None
                        }
                        None => {
                            let shown = format!("data.{source}.{name}");
                            let same_source = d.data.iter().filter(|x| x.source.name() == source).map(|x| x.name.as_str());
                            Some(unknown("data block", &shown, name, same_source, span.clone()))
                        }
                    },
                    _ => Some(Diagnostic::error("`data` must be followed by a source and a name, e.g. data.vpc.main.id", span.clone())),
                },
                "count" => match within {
                    Some(w) if w.meta("count").is_some() && attr == Some("index") => None,
                    Some(w) if w.meta("count").is_some() => Some(Diagnostic::error("only count.index is available", span.clone())),
                    _ => Some(Diagnostic::error("count.index is only available in a block that sets `count`", span.clone())),
                },
                "each" => match within {
                    Some(w) if w.meta("for_each").is_some() && matches!(attr, Some("key") | Some("value")) => None,
                    Some(w) if w.meta("for_each").is_some() => Some(Diagnostic::error("only each.key and each.value are available", span.clone())),
                    _ => Some(Diagnostic::error("each.key/each.value are only available in a block that sets `for_each`", span.clone())),
                },
                root if self.lang.kind(root).is_some() => match attr {
                    Some(a) => match resources.iter().position(|x| x.kind.name() == root && x.name == a) {
                        Some(i) => {
                            if within.is_some_and(|w| w.kind.name() == root && w.name == a) {
                                Some(Diagnostic::error(format!("{root}.{a} refers to itself"), span.clone()))
                            } else {
                                deps.insert(Node::Resource(i));
                                None
                            }
                        }
                        None => Some(unknown(
                            "resource",
                            &format!("{root}.{a}"),
                            a,
                            resources.iter().filter(|x| x.kind.name() == root).map(|x| x.name.as_str()),
                            span.clone(),
                        )),
                    },
                    None => Some(Diagnostic::error(format!("`{root}` must be followed by a resource name, e.g. {root}.NAME.ATTR"), span.clone())),
                },
                root => {
                    let names: Vec<&str> = ["var", "local", "stack", "count", "each", "data"].into_iter().chain(self.lang.kind_names()).collect();
                    Some(unknown("name", root, root, names.iter().copied(), span.clone()))
                }
            };
            if let Some(d) = problem {
                self.bad_refs.extend(span.clone());
                // A block lost to a syntax error may have declared it: that error says it all.
                if !self.broken.iter().any(|b| b.may_declare(&r.root, attr, r.attr2.as_deref())) {
                    self.diags.push(d);
                }
            }
        }
        deps
    }

    /// Topological order of locals and resources; reports every cycle.
    pub(super) fn topo_order(
        &mut self,
        edges: &BTreeMap<Node, BTreeSet<Node>>,
        locals: &[LocalDecl],
        resources: &[ResourceDecl],
        data: &[DataDecl],
        outputs: &[OutputDecl],
    ) -> (Vec<Node>, BTreeSet<Node>) {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut marks: BTreeMap<Node, Mark> = edges.keys().map(|n| (*n, Mark::New)).collect();
        let mut order = Vec::new();
        let mut in_cycles = BTreeSet::new();
        let name = |n: Node| match n {
            Node::Local(i) => (format!("local.{}", locals[i].name), locals[i].span.clone()),
            Node::Resource(i) => (resources[i].block_address(), resources[i].span.clone()),
            Node::Data(i) => (data[i].address(), data[i].span.clone()),
            Node::Output(i) => (format!("output.{}", outputs[i].name), outputs[i].span.clone()),
        };
        // Iterative DFS with an explicit path so cycles can be named.
        for &start in edges.keys() {
            if marks[&start] != Mark::New {
                continue;
            }
            let mut stack: Vec<(Node, Vec<Node>)> = vec![(start, edges[&start].iter().copied().collect())];
            marks.insert(start, Mark::Active);
            while let Some((node, pending)) = stack.last_mut() {
                if let Some(next) = pending.pop() {
                    match marks[&next] {
                        Mark::New => {
                            marks.insert(next, Mark::Active);
                            let nexts = edges[&next].iter().copied().collect();
                            stack.push((next, nexts));
                        }
                        Mark::Active => {
                            let pos = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                            let cycle: Vec<Node> = stack[pos..].iter().map(|(n, _)| *n).collect();
                            in_cycles.extend(cycle.iter().copied());
                            let names: Vec<String> = cycle.iter().map(|n| name(*n).0).collect();
                            let (_, span) = name(cycle[0]);
                            self.diags.push(
                                Diagnostic::error(format!("reference cycle: {} -> {}", names.join(" -> "), names[0]), Some(span))
                                    .with_note("break the cycle by removing one of these references"),
                            );
                        }
                        Mark::Done => {}
                    }
                } else {
                    let n = *node;
                    marks.insert(n, Mark::Done);
                    order.push(n);
                    stack.pop();
                }
            }
        }
        (order, in_cycles)
    }
}

pub(super) fn unknown<'a>(what: &str, shown: &str, name: &str, candidates: impl IntoIterator<Item = &'a str>, span: Option<SrcSpan>) -> Diagnostic {
    let mut d = Diagnostic::error(format!("unknown {what} {shown}"), span).with_label("not declared");
    if let Some(s) = did_you_mean(name, candidates) {
        d = d.with_note(format!("did you mean \"{s}\"?"));
    }
    d
}

pub(super) fn collect_body_refs(body: &Body, out: &mut Vec<Reference>) {
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => out.extend(refs::collect(&a.value)),
            Structure::Block(b) => collect_body_refs(&b.body, out),
        }
    }
}

/// Block addresses a resource depends on, following locals transitively.
pub(super) fn resource_deps(edges: &BTreeMap<Node, BTreeSet<Node>>, start: Node, resources: &[ResourceDecl]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<Node> = edges.get(&start).map(|s| s.iter().copied().collect()).unwrap_or_default();
    while let Some(n) = todo.pop() {
        if !seen.insert(n) {
            continue;
        }
        match n {
            Node::Resource(i) => {
                out.insert(resources[i].block_address());
            }
            Node::Local(_) | Node::Data(_) | Node::Output(_) => todo.extend(edges.get(&n).into_iter().flatten().copied()),
        }
    }
    out
}

/// `edges` with `node`'s own edges added (before it is inserted).
fn edges_with(edges: &BTreeMap<Node, BTreeSet<Node>>, node: Node, deps: &BTreeSet<Node>) -> BTreeMap<Node, BTreeSet<Node>> {
    let mut all = edges.clone();
    all.insert(node, deps.clone());
    all
}
