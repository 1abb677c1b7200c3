//! `#[derive(Schema)]`: a block's schema from the struct its evaluated body
//! reads into, so a kind's attributes, their types, defaults, limits and
//! docs are written once, on the `Spec` fields.
//!
//! ```ignore
//! #[derive(Deserialize, Schema)]
//! struct Spec {
//!     /// Repository name (default: the block label).
//!     #[schema(forces_replacement)]
//!     name: String,
//!     /// IMMUTABLE or MUTABLE.
//!     #[schema(default = "IMMUTABLE", one_of("IMMUTABLE", "MUTABLE"))]
//!     image_tag_mutability: String,
//!     /// Image expiry rules.
//!     #[schema(block)]
//!     lifecycle_policy: Option<Lifecycle>,
//! }
//! ```
//!
//! Each field is an attribute named as serde names it (`#[serde(rename)]`),
//! documented by its doc comment, typed by its Rust type (`SchemaType`) or
//! `ty = JsonFile`; `#[serde(flatten)]` splices another derived block's
//! attributes and blocks in place; `#[schema(block = PATH)]` names a
//! `NestedBlock` declared once for several kinds; `#[schema(skip)]` leaves
//! a field out.
//! The generated code names `crate::core::schema`, which is where both
//! gantry-core and the gantry crate (by re-export) keep it.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{quote, ToTokens};
use syn::{parse_macro_input, Data, DeriveInput, Expr, Field, Fields, GenericArgument, Ident, Lit, LitStr, PathArguments, Token, Type};

/// Derives `crate::core::schema::HasSchema` for a struct with named fields.
#[proc_macro_derive(Schema, attributes(schema))]
pub fn derive_schema(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// What one field contributes.
enum Part {
    Attr(Tokens),
    Block(Tokens),
    /// A flattened block: its attributes and blocks, in place.
    Flatten(Type),
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(&input.ident, "Schema is derived for structs"));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(&input.ident, "Schema needs named fields (each is an attribute)"));
    };
    let mut parts = Vec::new();
    for f in &fields.named {
        if let Some(p) = part(f)? {
            parts.push(p);
        }
    }
    let name = &input.ident;
    let s = quote!(crate::core::schema);
    let flattened = parts.iter().any(|p| matches!(p, Part::Flatten(_)));
    let (attrs, blocks) = if flattened {
        // Spliced at compile time into arrays sized by the parts' lengths.
        let attr_parts = parts.iter().filter_map(|p| match p {
            Part::Attr(a) => Some(quote!(&[#a])),
            Part::Flatten(t) => Some(quote!(<#t as #s::HasSchema>::SCHEMA.attrs)),
            Part::Block(_) => None,
        });
        let block_parts = parts.iter().filter_map(|p| match p {
            Part::Block(b) => Some(quote!(&[#b])),
            Part::Flatten(t) => Some(quote!(<#t as #s::HasSchema>::SCHEMA.blocks)),
            Part::Attr(_) => None,
        });
        let attr_parts: Vec<Tokens> = attr_parts.collect();
        let block_parts: Vec<Tokens> = block_parts.collect();
        (
            quote!(&{
                const PARTS: &[&[#s::Attr]] = &[#(#attr_parts),*];
                const ATTRS: [#s::Attr; #s::total_len(PARTS)] = #s::concat(PARTS, #s::Attr::new("", #s::Ty::String, ""));
                ATTRS
            }),
            quote!(&{
                const PARTS: &[&[#s::NestedBlock]] = &[#(#block_parts),*];
                const BLOCKS: [#s::NestedBlock; #s::total_len(PARTS)] = #s::concat(PARTS, #s::NestedBlock::EMPTY);
                BLOCKS
            }),
        )
    } else {
        let a = parts.iter().filter_map(|p| if let Part::Attr(a) = p { Some(a) } else { None });
        let b = parts.iter().filter_map(|p| if let Part::Block(b) = p { Some(b) } else { None });
        (quote!(&[#(#a),*]), quote!(&[#(#b),*]))
    };
    Ok(quote! {
        impl #s::HasSchema for #name {
            const SCHEMA: #s::Schema = #s::Schema { attrs: #attrs, blocks: #blocks };
        }
    })
}

/// Everything `#[schema(...)]` and `#[serde(...)]` say of one field.
#[derive(Default)]
struct Options {
    skip: bool,
    block: bool,
    /// A nested block declared once elsewhere (shared by kinds): `block = PATH`.
    shared_block: Option<Expr>,
    implied: bool,
    required: bool,
    forces_replacement: bool,
    flatten: bool,
    rename: Option<String>,
    ty: Option<Ident>,
    default: Option<Expr>,
    one_of: Option<Tokens>,
    range: Option<(Expr, Expr)>,
}

fn options(f: &Field) -> syn::Result<Options> {
    let mut o = Options::default();
    for a in &f.attrs {
        if a.path().is_ident("schema") {
            a.parse_nested_meta(|m| {
                let key = m.path.get_ident().map(Ident::to_string).unwrap_or_default();
                match key.as_str() {
                    "skip" => o.skip = true,
                    "block" if m.input.peek(Token![=]) => o.shared_block = Some(m.value()?.parse()?),
                    "block" => o.block = true,
                    "implied" => o.implied = true,
                    "required" => o.required = true,
                    "forces_replacement" => o.forces_replacement = true,
                    "ty" => o.ty = Some(m.value()?.parse()?),
                    "default" => o.default = Some(m.value()?.parse()?),
                    "one_of" if m.input.peek(Token![=]) => o.one_of = Some(m.value()?.parse::<Expr>()?.to_token_stream()),
                    "one_of" => {
                        let list;
                        syn::parenthesized!(list in m.input);
                        let values = list.parse_terminated(|p| p.parse::<LitStr>(), Token![,])?.into_iter();
                        o.one_of = Some(quote!(&[#(#values),*]));
                    }
                    "range" => {
                        let list;
                        syn::parenthesized!(list in m.input);
                        let lo: Expr = list.parse()?;
                        list.parse::<Token![,]>()?;
                        o.range = Some((lo, list.parse()?));
                    }
                    _ => return Err(m.error("unknown schema option (skip, block, implied, required, forces_replacement, ty, default, one_of, range)")),
                }
                Ok(())
            })?;
        } else if a.path().is_ident("serde") {
            // Only the options that change the name or the shape; the rest
            // (default, skip_serializing_if, ...) are read past.
            a.parse_nested_meta(|m| {
                if m.path.is_ident("rename") {
                    o.rename = Some(m.value()?.parse::<LitStr>()?.value());
                } else if m.path.is_ident("flatten") {
                    o.flatten = true;
                } else if m.input.peek(Token![=]) {
                    m.value()?.parse::<Expr>()?;
                } else if m.input.peek(syn::token::Paren) {
                    let _rest;
                    syn::parenthesized!(_rest in m.input);
                    _rest.parse::<Tokens>()?;
                }
                Ok(())
            })?;
        }
    }
    Ok(o)
}

/// The field's doc comment, one line.
fn doc(f: &Field) -> String {
    let lines = f.attrs.iter().filter(|a| a.path().is_ident("doc")).filter_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Some(s.value().trim().to_string()),
            _ => None,
        },
        _ => None,
    });
    lines.filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

fn part(f: &Field) -> syn::Result<Option<Part>> {
    let o = options(f)?;
    let ident = f.ident.as_ref().expect("named fields");
    if o.skip {
        return Ok(None);
    }
    if o.flatten {
        return Ok(Some(Part::Flatten(f.ty.clone())));
    }
    if let Some(shared) = &o.shared_block {
        return Ok(Some(Part::Block(shared.to_token_stream())));
    }
    let s = quote!(crate::core::schema);
    let name = o.rename.clone().unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_string());
    let doc = doc(f);
    if doc.is_empty() {
        return Err(syn::Error::new_spanned(ident, "a schema field needs a doc comment: it is the attribute's line in `gantry docs`"));
    }
    if o.block {
        let (inner, repeated) = block_inner(&f.ty);
        let implied = o.implied;
        return Ok(Some(Part::Block(quote! {
            #s::NestedBlock { name: #name, schema: &<#inner as #s::HasSchema>::SCHEMA, repeated: #repeated, implied: #implied, doc: #doc }
        })));
    }
    let field_ty = &f.ty;
    let ty = match &o.ty {
        Some(t) => quote!(#s::Ty::#t),
        None => quote!(<#field_ty as #s::SchemaType>::TY),
    };
    let mut attr = quote!(#s::Attr::new(#name, #ty, #doc));
    if o.required {
        attr.extend(quote!(.required()));
    }
    if let Some(d) = &o.default {
        let value = match d {
            Expr::Lit(syn::ExprLit { lit: Lit::Int(i), .. }) => quote!(#s::DefaultValue::Int(#i)),
            Expr::Unary(_) => quote!(#s::DefaultValue::Int(#d)),
            Expr::Lit(syn::ExprLit { lit: Lit::Bool(b), .. }) => quote!(#s::DefaultValue::Bool(#b)),
            Expr::Path(p) if p.path.is_ident("empty") => quote!(#s::DefaultValue::empty(#ty)),
            Expr::Lit(syn::ExprLit { lit: Lit::Str(_), .. }) => quote!(#s::DefaultValue::Str(#d)),
            // A named constant or a cast: its kind follows the field's type.
            other => match scalar(field_ty).as_deref() {
                _ if matches!(other, Expr::Cast(_)) => quote!(#s::DefaultValue::Int(#other)),
                Some("i64" | "i32" | "u32" | "u64" | "f64") => quote!(#s::DefaultValue::Int(#other)),
                Some("bool") => quote!(#s::DefaultValue::Bool(#other)),
                _ => quote!(#s::DefaultValue::Str(#other)),
            },
        };
        attr.extend(quote!(.default(#value)));
    }
    if let Some(v) = &o.one_of {
        attr.extend(quote!(.one_of(#v)));
    }
    if let Some((lo, hi)) = &o.range {
        attr.extend(quote!(.range(#lo, #hi)));
    }
    if o.forces_replacement {
        attr.extend(quote!(.forces_replacement()));
    }
    Ok(Some(Part::Attr(attr)))
}

/// The name of a field's scalar type, through `Option` (`i64`, `String`, ...).
fn scalar(ty: &Type) -> Option<String> {
    let (inner, repeated) = block_inner(ty);
    let Type::Path(p) = inner else { return None };
    (!repeated).then(|| p.path.segments.last().map(|s| s.ident.to_string())).flatten()
}

/// `Option<T>` and `T` hold one block of `T`; `Vec<T>`, a repeated one.
fn block_inner(ty: &Type) -> (Type, bool) {
    if let Type::Path(p) = ty {
        if let Some(last) = p.path.segments.last() {
            if let PathArguments::AngleBracketed(args) = &last.arguments {
                if let Some(GenericArgument::Type(inner)) = args.args.first() {
                    match last.ident.to_string().as_str() {
                        "Option" => return (inner.clone(), false),
                        "Vec" => return (inner.clone(), true),
                        _ => {}
                    }
                }
            }
        }
    }
    (ty.clone(), false)
}
