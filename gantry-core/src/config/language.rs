//! What a stack file can say: the resource kinds and the data sources. The
//! language knows no kind or source by name; the binary hands it these
//! (`gantry::ops::language()`), so the loader is tested with any set.

use crate::core::{DataSchema, Kind};

/// The blocks the loader accepts besides its own (`stack`, `variable`, ...).
#[derive(Clone, Default)]
pub struct Language {
    /// `resource`-like blocks, by [`Kind::name`].
    pub kinds: Vec<&'static dyn Kind>,
    /// `data "SOURCE" "NAME"` blocks, by [`DataSchema::name`].
    pub sources: Vec<&'static dyn DataSchema>,
}

impl Language {
    /// A kind by its block name.
    pub fn kind(&self, name: &str) -> Option<&'static dyn Kind> {
        self.kinds.iter().copied().find(|k| k.name() == name)
    }

    /// A data source by its block type.
    pub fn source(&self, name: &str) -> Option<&'static dyn DataSchema> {
        self.sources.iter().copied().find(|s| s.name() == name)
    }

    /// The kinds' block names, in order.
    pub fn kind_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.iter().map(|k| k.name())
    }

    /// The data sources' block types, in order.
    pub fn source_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.sources.iter().map(|s| s.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load_dir, LoadOptions};
    use crate::core::schema::{Attr, Schema, Ty};
    use crate::core::{Diagnostic, State};

    /// A data source the gantry binary does not have.
    struct Thing;

    static THING: Schema = Schema { attrs: &[Attr::new("id", Ty::String, "Which thing.").required()], blocks: &[] };
    static THING_ATTRS: &[Attr] = &[Attr::new("size", Ty::Int, "How big.")];

    impl DataSchema for Thing {
        fn name(&self) -> &'static str {
            "thing"
        }
        fn doc(&self) -> &'static str {
            "A thing."
        }
        fn schema(&self) -> &'static Schema {
            &THING
        }
        fn attributes(&self) -> &'static [Attr] {
            THING_ATTRS
        }
        fn check(&self, args: &State) -> Vec<Diagnostic> {
            let bad = args.get("id").and_then(|v| v.as_str()).is_some_and(|id| !id.starts_with("t-"));
            bad.then(|| Diagnostic::attr("id", "a thing's id starts with t-")).into_iter().collect()
        }
    }

    fn load(text: &str, lang: &Language) -> crate::config::Loaded {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.gantry.hcl"), format!("stack \"t\" {{}}\n{text}")).unwrap();
        load_dir(dir.path(), &LoadOptions::default(), lang)
    }

    fn errors(l: &crate::config::Loaded) -> Vec<String> {
        l.diags.iter().filter(|d| d.severity == crate::config::diag::Severity::Error).map(|d| d.message.clone()).collect()
    }

    const USES_THING: &str = "data \"thing\" \"a\" {\n  id = \"t-1\"\n}\noutput \"size\" {\n  value = data.thing.a.size\n}\n";

    #[test]
    fn data_sources_are_the_callers() {
        let with = load(USES_THING, &Language { kinds: Vec::new(), sources: vec![&Thing] });
        assert_eq!(errors(&with), Vec::<String>::new());
        assert_eq!(with.data_requests.iter().map(|r| (r.address.as_str(), r.source)).collect::<Vec<_>>(), [("data.thing.a", "thing")]);

        let without = load(USES_THING, &Language::default());
        assert!(errors(&without).iter().any(|m| m == "unknown data source \"thing\""), "{:?}", errors(&without));
    }

    #[test]
    fn a_sources_own_check_runs_on_its_arguments() {
        let l = load("data \"thing\" \"a\" {\n  id = \"x-1\"\n}\n", &Language { kinds: Vec::new(), sources: vec![&Thing] });
        assert!(errors(&l).iter().any(|m| m.contains("starts with t-")), "{:?}", errors(&l));
    }
}
