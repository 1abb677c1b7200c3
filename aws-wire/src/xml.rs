//! XML answers read into a small tree with the SDK's own decoder
//! (`aws-smithy-xml`): the elements a reader names as containers are read
//! with their children, every other element as its text. An unnamed
//! element with children reads as whitespace: the reader asked for none
//! of it.

use crate::error::CallError;
use aws_smithy_xml::decode::{try_data, Document, ScopedDecoder};

/// One element: its local name, its text, the children of a container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    /// The local name (no namespace prefix).
    pub name: String,
    /// The unescaped text of a leaf; empty for a container.
    pub text: String,
    /// A container's child elements, in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The root element of `xml`; `containers` names the elements whose
    /// children are read (the root's always are).
    pub fn parse(xml: &str, containers: &[&str]) -> Result<Element, CallError> {
        let mut doc = Document::new(xml);
        let mut root = doc.root_element().map_err(|e| CallError::Decode(format!("not an XML document: {e}")))?;
        let name = root.start_el().local().to_string();
        Ok(Element { name, text: String::new(), children: read_children(&mut root, containers) })
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// The entries of the child named `list`: its children named `entry`
    /// (`member` in a Query list, `item` in an EC2 set).
    pub fn entries<'a>(&'a self, list: &str, entry: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.child(list).into_iter().flat_map(move |l| l.children.iter().filter(move |c| c.name == entry))
    }

    /// The `member` entries of the child named `list` (a Query list).
    pub fn members<'a>(&'a self, list: &str) -> impl Iterator<Item = &'a Element> + 'a {
        self.entries(list, "member")
    }

    /// The first element named `name` below this one, depth first.
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| if c.name == name { Some(c) } else { c.find(name) })
    }
}

/// The children of `scope`. The decoder ends a malformed document where
/// it stops making sense (as the SDKs' own deserializers read it).
fn read_children(scope: &mut ScopedDecoder, containers: &[&str]) -> Vec<Element> {
    let mut out = Vec::new();
    while let Some(mut child) = scope.next_tag() {
        let name = child.start_el().local().to_string();
        let element = if containers.contains(&name.as_str()) {
            Element { name, text: String::new(), children: read_children(&mut child, containers) }
        } else {
            // An element with children the reader did not ask for: skipped.
            let text = try_data(&mut child).map(|t| t.into_owned()).unwrap_or_default();
            Element { name, text, children: Vec::new() }
        };
        out.push(element);
    }
    out
}
