//! Stage 4: locals and resources evaluated in dependency order, each with
//! only what it references in scope; every instance checked by its kind.

use super::collect::{DataDecl, Decls, OutputDecl, ResourceDecl};
use super::expand::Inst;
use super::expr::{base_context, to_hcl};
use super::graph::{collect_body_refs, resource_deps, Graph, Node};
use super::{span_of, DataRequest, Loader, ResourceConfig, META_ATTRS};
use crate::config::diag::Diagnostic;
use crate::config::refs::{self, Reference};
use crate::core::{Env, OutputValue};
use hcl::eval::Context;
use hcl_edit::Span;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// The attribute a problem names: `name`, or `block.name` inside a nested block.
fn attribute_at<'a>(body: &'a hcl_edit::structure::Body, path: &'a str) -> Option<&'a hcl_edit::structure::Attribute> {
    match path.split_once('.') {
        Some((block, rest)) => body.get_blocks(block).next().and_then(|b| attribute_at(&b.body, rest)),
        None => body.get_attribute(path),
    }
}

/// What one node may see while it is evaluated.
struct Scope {
    vars: hcl::Map<String, hcl::Value>,
    locals: HashMap<String, hcl::Value>,
    resources: HashMap<(String, String), hcl::Value>,
    /// Data block values by (source, name).
    data: HashMap<(String, String), hcl::Value>,
    stack: hcl::Value,
    /// Nodes whose value stands in for a data block not read yet (and
    /// what uses them): their kind checks wait for the real value.
    unknown: BTreeSet<Node>,
}

impl Loader<'_> {
    /// Evaluates every node in order; returns the resource instances and the outputs.
    pub(super) fn evaluate(
        &mut self,
        d: &Decls,
        graph: &Graph,
        var_values: &serde_json::Map<String, Value>,
        env: &Env,
    ) -> (Vec<ResourceConfig>, Vec<OutputValue>) {
        let mut scope = Scope {
            vars: var_values.iter().map(|(k, v)| (k.clone(), to_hcl(v))).collect(),
            locals: HashMap::new(),
            resources: HashMap::new(),
            data: HashMap::new(),
            unknown: BTreeSet::new(),
            stack: to_hcl(&serde_json::json!({
                "name": env.stack, "region": env.region, "account_id": env.account_id,
                "gcp_project": env.gcp_project, "workspace": env.workspace,
            })),
        };
        // Nodes in a cycle already have a diagnostic; evaluating them would only add noise.
        let mut failed: BTreeSet<Node> = graph.in_cycles.clone();
        let mut out = Vec::new();
        let mut outputs = Vec::new();
        for &node in &graph.order {
            if graph.in_cycles.contains(&node) {
                continue;
            }
            if graph.edges[&node].iter().any(|dep| failed.contains(dep)) {
                // Its own problems are still reported; what only stems from
                // the broken dependency (already reported) is not.
                self.silence_refs_to(&failed, node, d);
                scope.unknown.insert(node);
            }
            if graph.edges[&node].iter().any(|d| scope.unknown.contains(d)) {
                scope.unknown.insert(node);
            }
            let ok = match node {
                Node::Local(i) => {
                    let l = &d.locals[i];
                    let refs = refs::collect(l.expr);
                    let ctx = build_context(&scope, &refs);
                    match self.eval(l.file, l.expr, &ctx) {
                        Some(v) => {
                            scope.locals.insert(l.name.clone(), to_hcl(&v));
                            true
                        }
                        None => false,
                    }
                }
                Node::Resource(i) => self.check_no_secrets(i, &d.resources[i], d) && self.eval_resource(i, &d.resources, &mut scope, env, graph, &mut out),
                Node::Data(i) => self.eval_data(i, &d.data[i], &mut scope),
                Node::Output(i) => match self.eval_output(&d.outputs[i], d, &scope, graph, node) {
                    Some(o) => {
                        outputs.push(o);
                        true
                    }
                    None => false,
                },
            };
            if !ok {
                failed.insert(node);
            }
        }
        outputs.sort_by(|a, b| a.name.cmp(&b.name));
        (out, outputs)
    }

    /// Marks the references `node` makes to failed nodes as already
    /// reported, so evaluation errors they cause are not reported again.
    fn silence_refs_to(&mut self, failed: &BTreeSet<Node>, node: Node, d: &Decls) {
        let (file, refs) = match node {
            Node::Local(i) => (d.locals[i].file, refs::collect(d.locals[i].expr)),
            Node::Resource(i) => {
                let mut all = Vec::new();
                collect_body_refs(&d.resources[i].block.body, &mut all);
                (d.resources[i].file, all)
            }
            Node::Data(i) => {
                let mut all = Vec::new();
                collect_body_refs(&d.data[i].block.body, &mut all);
                (d.data[i].file, all)
            }
            Node::Output(i) => {
                let mut all = Vec::new();
                collect_body_refs(&d.outputs[i].block.body, &mut all);
                (d.outputs[i].file, all)
            }
        };
        for r in refs {
            if ref_target(d, &r).is_some_and(|t| failed.contains(&t)) {
                self.bad_refs.push(crate::config::diag::SrcSpan { file, range: r.span.clone() });
            }
        }
    }

    /// Evaluates an output; a value from a sensitive variable must be
    /// marked sensitive (as Terraform requires), so it is never printed by accident.
    fn eval_output(&mut self, o: &OutputDecl, d: &Decls, scope: &Scope, graph: &Graph, node: Node) -> Option<OutputValue> {
        let mut refs = Vec::new();
        collect_body_refs(&o.block.body, &mut refs);
        let ctx = build_context(scope, &refs);
        let value = self.eval(o.file, &o.block.body.get_attribute("value")?.value, &ctx)?;
        let mut literal = |key: &str| -> Option<Value> {
            let a = o.block.body.get_attribute(key)?;
            self.eval(o.file, &a.value, &base_context())
        };
        let description = literal("description").and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        let sensitive = match literal("sensitive") {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(_) => {
                let at = o.block.body.get_attribute("sensitive").and_then(|a| span_of(o.file, a.value.span()));
                self.diags.push(Diagnostic::error("sensitive must be true or false", at));
                return None;
            }
        };
        if !sensitive {
            if let Some(var) = super::secrets::sensitive_in(&refs, d, &mut BTreeSet::new()) {
                self.diags.push(
                    Diagnostic::error(format!("output \"{}\" shows var.{var}, which is sensitive", o.name), Some(o.span.clone()))
                        .with_note("add sensitive = true to the output (it is then shown as <sensitive>, and by `gantry output NAME`)"),
                );
                return None;
            }
        }
        let depends_on = resource_deps(&graph.edges, node, &d.resources).into_iter().collect();
        Some(OutputValue { name: o.name.clone(), value, sensitive, description, depends_on })
    }

    /// Evaluates a data block's arguments and takes its value from what
    /// was read, or records it to be read (a stand-in value meanwhile).
    fn eval_data(&mut self, index: usize, x: &DataDecl, scope: &mut Scope) -> bool {
        let mut refs = Vec::new();
        collect_body_refs(&x.block.body, &mut refs);
        let ctx = build_context(scope, &refs);
        let before = self.diags.error_count();
        let span = Some(x.span.clone());
        // count/for_each were already refused where the block was collected.
        let args = self.eval_body(x.file, &x.block.body, x.source.schema(), &ctx, &["count", "for_each"], span.clone());
        if self.diags.error_count() > before {
            return false;
        }
        let unknown = scope.unknown.contains(&Node::Data(index));
        if !unknown {
            for p in x.source.check(&args) {
                let at = x.block.body.get_attribute(&p.attr).and_then(|a| span_of(x.file, a.value.span())).or_else(|| span.clone());
                self.diags.push(placed(p, x.address(), at));
            }
            if self.diags.error_count() > before {
                return false;
            }
        }
        let address = x.address();
        let key = (x.source.name().to_string(), x.name.clone());
        let read = if unknown { None } else { self.opts.data.as_ref().and_then(|d| d.get(&address)) };
        match read {
            Some(Ok(v)) => {
                scope.data.insert(key, to_hcl(&Value::Object(v.clone())));
                true
            }
            Some(Err(why)) => {
                self.diags.push(Diagnostic::error(format!("{address}: {why}"), span).with_label("read at plan time"));
                false
            }
            None => {
                if !unknown {
                    self.data_requests.push(DataRequest { address: address.clone(), source: x.source.name(), args });
                }
                scope.unknown.insert(Node::Data(index));
                scope.data.insert(key, to_hcl(&crate::core::placeholder(x.source, &address)));
                true
            }
        }
    }

    /// Evaluates every instance of one resource block into `out`.
    fn eval_resource(&mut self, index: usize, resources: &[ResourceDecl], scope: &mut Scope, env: &Env, graph: &Graph, out: &mut Vec<ResourceConfig>) -> bool {
        let r = &resources[index];
        let mut all_refs = Vec::new();
        collect_body_refs(&r.block.body, &mut all_refs);
        if let Some(ts) = self.templates.get(&index) {
            for t in ts {
                all_refs.extend(refs::collect_template(&t.template));
            }
        }
        let base = build_context(scope, &all_refs);
        let depends_on = resource_deps(&graph.edges, Node::Resource(index), resources);
        let protect = match r.meta("protect") {
            Some(e) => match self.eval(r.file, e, &base) {
                Some(Value::Bool(b)) => b,
                Some(_) => {
                    self.diags.push(Diagnostic::error("protect must be true or false", span_of(r.file, e.span())));
                    return false;
                }
                None => return false,
            },
            None => false,
        };

        let Some(instances) = self.instances(r, &base) else { return false };

        let block_span = Some(r.span.clone());
        let mut ok = true;
        let mut list_value = Vec::new();
        let mut map_value = hcl::Map::new();
        let mut single_value = hcl::Value::Null;
        for inst in &instances {
            let mut ctx = base.clone();
            let suffix = inst.suffix();
            inst.declare(&mut ctx);
            let before = self.diags.error_count();
            let mut attrs = self.eval_body(r.file, &r.block.body, r.kind.schema(), &ctx, META_ATTRS, block_span.clone());
            let body_failed = self.diags.error_count() > before;
            r.kind.fill_defaults(&r.name, env, &mut attrs);
            // Template errors do not hide the block's other problems.
            self.render_templates(index, &ctx, &mut attrs);
            // Values that stand in for unread data blocks are not checked: the plan checks the real ones.
            let unknown = scope.unknown.contains(&Node::Resource(index));
            let (mut block, unread) = r.kind.read(&attrs);
            // A block that does not read is that one problem (the rules would judge defaults).
            let mut problems: Vec<_> = match unread {
                _ if unknown => Vec::new(),
                Some(u) => vec![u],
                None => block.check().into_iter().chain(block.check_env(env)).collect(),
            };
            if let Some(bundled) = self.opts.bundled.as_ref().filter(|_| problems.is_empty() && !body_failed && !unknown) {
                problems = r.kind.local_inputs(&mut attrs, bundled.as_ref());
                // The block changed (a bundled artifact was filled in): read it again.
                block = r.kind.block(&attrs);
            }
            for p in problems {
                // After evaluation errors, only problems with values that did evaluate are real.
                let top = p.attr.split('.').next().unwrap_or_default().to_string();
                if body_failed && (!attrs.contains_key(&top) || self.failed_keys.contains(&top)) {
                    continue;
                }
                let span = attribute_at(&r.block.body, &p.attr).and_then(|a| span_of(r.file, a.value.span())).or_else(|| block_span.clone());
                self.diags.push(placed(p, format!("{}{suffix}", r.block_address()), span));
            }
            if self.diags.error_count() > before {
                ok = false;
                continue;
            }
            if !unknown {
                self.lint(r, &format!("{}{}", r.block_address(), suffix), &block, &attrs, env);
            }
            let outputs = to_hcl(&Value::Object(block.outputs(&attrs, env)));
            match inst {
                Inst::Single => single_value = outputs,
                Inst::Count(_) => list_value.push(outputs),
                Inst::Each(k, _) => {
                    map_value.insert(k.clone(), outputs);
                }
            }
            out.push(ResourceConfig {
                address: format!("{}{}", r.block_address(), suffix),
                block_address: r.block_address(),
                kind: r.kind.name(),
                attrs,
                block,
                depends_on: depends_on.clone(),
                protect,
                span: block_span.clone(),
            });
        }
        let value = if r.meta("count").is_some() {
            hcl::Value::Array(list_value)
        } else if r.meta("for_each").is_some() {
            hcl::Value::Object(map_value)
        } else {
            single_value
        };
        scope.resources.insert((r.kind.name().to_string(), r.name.clone()), value);
        ok
    }
}

/// A context holding only what `refs` mention (keeps evaluation linear in
/// the number of references rather than the size of the stack).
fn build_context(scope: &Scope, refs: &[Reference]) -> Context<'static> {
    let mut ctx = base_context();
    ctx.declare_var("var", hcl::Value::Object(scope.vars.clone()));
    ctx.declare_var("stack", scope.stack.clone());
    let mut locals = hcl::Map::new();
    let mut kinds: HashMap<&str, hcl::Map<String, hcl::Value>> = HashMap::new();
    for r in refs {
        let Some(attr) = &r.attr else { continue };
        if r.root == "local" {
            if let Some(v) = scope.locals.get(attr) {
                locals.insert(attr.clone(), v.clone());
            }
        } else if let Some(v) = scope.resources.get(&(r.root.clone(), attr.clone())) {
            kinds.entry(r.root.as_str()).or_default().insert(attr.clone(), v.clone());
        }
    }
    ctx.declare_var("local", hcl::Value::Object(locals));
    let mut data: hcl::Map<String, hcl::Value> = hcl::Map::new();
    for r in refs.iter().filter(|r| r.root == "data") {
        let (Some(source), Some(name)) = (&r.attr, &r.attr2) else { continue };
        if let Some(v) = scope.data.get(&(source.clone(), name.clone())) {
            if let hcl::Value::Object(m) = data.entry(source.clone()).or_insert_with(|| hcl::Value::Object(hcl::Map::new())) {
                m.insert(name.clone(), v.clone());
            }
        }
    }
    if !data.is_empty() {
        ctx.declare_var("data", hcl::Value::Object(data));
    }
    for (k, m) in kinds {
        ctx.declare_var(k.to_string(), hcl::Value::Object(m));
    }
    ctx
}

/// The node a reference names, if it names one.
fn ref_target(d: &Decls, r: &Reference) -> Option<Node> {
    let attr = r.attr.as_deref()?;
    match r.root.as_str() {
        "local" => d.locals.iter().position(|l| l.name == attr).map(Node::Local),
        "data" => d.data.iter().position(|x| x.source.name() == attr && Some(x.name.as_str()) == r.attr2.as_deref()).map(Node::Data),
        root => d.resources.iter().position(|x| x.kind.name() == root && x.name == attr).map(Node::Resource),
    }
}

/// A kind's (or data source's) problem with an attribute, placed: in the
/// file at the attribute's value, and at the block's address; the message
/// names the attribute.
fn placed(p: Diagnostic, address: String, span: Option<crate::config::diag::SrcSpan>) -> Diagnostic {
    let message = if p.attr.is_empty() { p.message } else { format!("{}: {}", p.attr, p.message) };
    Diagnostic { message, address, span, ..p }
}
