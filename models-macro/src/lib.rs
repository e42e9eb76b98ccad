//! Turns OpenSlides' `models.yml` into Rust: the `Collection` enum, the table of every
//! field with its type, targets and restriction mode, and one typed marker per collection.
//!
//! `permissions!("/absolute/path/permission.yml")` does the same for the permission
//! hierarchy: the `Permission` enum with each permission's implied permissions.
//!
//! Invoke `models!("/absolute/path/models.yml")` once. The expansion refers to the
//! hand-written types of the calling crate's `models` module (`FieldId`, `FieldDef`,
//! `FieldKind`, `ScalarType`, `Field`, `Model` and the value types), so it must be
//! expanded inside that module.

use proc_macro::TokenStream;
use proc_macro2::{Ident, Span, TokenStream as TokenStream2};
use quote::quote;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeSet;

/// Expands to the generated models for the models.yml at the given path.
#[proc_macro]
pub fn models(input: TokenStream) -> TokenStream {
    let path = syn::parse_macro_input!(input as syn::LitStr);
    match generate(&path.value()) {
        Ok(tokens) => tokens.into(),
        Err(message) => syn::Error::new(path.span(), message)
            .to_compile_error()
            .into(),
    }
}

/// Expands to `pub fn rule(Collection, RestrictionMode) -> Option<Rule>`, which maps every
/// restriction mode used in the models.yml at the given path to the function
/// `<collection>::mode_<mode>` of the calling module. A mode without its function is a
/// build error.
#[proc_macro]
pub fn restriction_rules(input: TokenStream) -> TokenStream {
    let path = syn::parse_macro_input!(input as syn::LitStr);
    let collections = std::fs::read_to_string(path.value())
        .map_err(|err| format!("read {}: {err}", path.value()))
        .and_then(|text| {
            serde_yaml::from_str::<Mapping>(&text).map_err(|err| format!("parse models.yml: {err}"))
        })
        .and_then(|root| parse_collections(&root));
    let collections = match collections {
        Ok(collections) => collections,
        Err(message) => {
            return syn::Error::new(path.span(), message)
                .to_compile_error()
                .into()
        }
    };

    let mut arms = Vec::new();
    for collection in &collections {
        let modes: BTreeSet<&str> = collection
            .fields
            .iter()
            .map(|field| field.restriction_mode.as_str())
            .collect();
        let variant = ident(&camel_case(&collection.name));
        let module = ident(&collection.name);
        for mode in modes {
            let mode_variant = ident(mode);
            let function = ident(&format!("mode_{}", mode.to_ascii_lowercase()));
            arms.push(quote! {
                (Collection::#variant, RestrictionMode::#mode_variant) => ::core::option::Option::Some(#module::#function),
            });
        }
    }
    let path = path.value();
    quote! {
        const _: &[u8] = include_bytes!(#path);

        /// Looks up the rule of a collection's restriction mode; `None` for a mode the
        /// collection does not use.
        pub fn rule(collection: Collection, mode: RestrictionMode) -> ::core::option::Option<Rule> {
            #[allow(unreachable_patterns)]
            match (collection, mode) {
                #(#arms)*
                _ => ::core::option::Option::None,
            }
        }
    }
    .into()
}

/// Expands to the `Permission` enum of the permission.yml at the given path.
#[proc_macro]
pub fn permissions(input: TokenStream) -> TokenStream {
    let path = syn::parse_macro_input!(input as syn::LitStr);
    match generate_permissions(&path.value()) {
        Ok(tokens) => tokens.into(),
        Err(message) => syn::Error::new(path.span(), message)
            .to_compile_error()
            .into(),
    }
}

/// A permission with every permission below it in the hierarchy.
struct PermissionSpec {
    name: String,
    implied: BTreeSet<String>,
}

fn generate_permissions(path: &str) -> Result<TokenStream2, String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("read {path}: {err}"))?;
    let root: Mapping =
        serde_yaml::from_str(&text).map_err(|err| format!("parse {path} as YAML: {err}"))?;

    let mut specs: Vec<PermissionSpec> = Vec::new();
    for (prefix, tree) in &root {
        let prefix = prefix
            .as_str()
            .ok_or("permission.yml: a top-level key is not a string")?;
        collect_permissions(prefix, tree, &mut Vec::new(), &mut specs)?;
    }
    specs.sort_by(|a, b| a.name.cmp(&b.name));

    let variants: Vec<Ident> = specs
        .iter()
        .map(|spec| ident(&camel_case(&spec.name.replace('.', "_"))))
        .collect();
    let names: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
    let implied = specs.iter().map(|spec| {
        let implied = spec
            .implied
            .iter()
            .map(|name| ident(&camel_case(&name.replace('.', "_"))));
        quote!(&[#(Permission::#implied),*])
    });
    let count = specs.len();

    Ok(quote! {
        const _: &[u8] = include_bytes!(#path);

        /// A meeting permission of permission.yml.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            #(#variants),*
        }

        impl Permission {
            /// Every permission, sorted by name.
            pub const ALL: [Permission; #count] = [#(Permission::#variants),*];

            /// Returns the permission as OpenSlides spells it, such as `motion.can_see`.
            pub const fn name(self) -> &'static str {
                match self { #(Permission::#variants => #names),* }
            }

            /// Looks a permission up by its name.
            pub fn from_name(name: &str) -> ::core::option::Option<Permission> {
                match name {
                    #(#names => ::core::option::Option::Some(Permission::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }

            /// Lists the permissions this one grants besides itself: everything below it
            /// in the hierarchy.
            pub const fn implied(self) -> &'static [Permission] {
                match self { #(Permission::#variants => #implied),* }
            }
        }
    })
}

/// Walks one level of the hierarchy. Every permission implies all permissions below it;
/// a permission that appears under several parents collects the children of each.
fn collect_permissions(
    prefix: &str,
    tree: &Value,
    ancestors: &mut Vec<String>,
    specs: &mut Vec<PermissionSpec>,
) -> Result<(), String> {
    let Some(children) = tree.as_mapping() else {
        return Ok(());
    };
    for (name, subtree) in children {
        let name = name
            .as_str()
            .ok_or_else(|| format!("permission.yml: a permission of {prefix} is not a string"))?;
        let full = format!("{prefix}.{name}");
        if !specs.iter().any(|spec| spec.name == full) {
            specs.push(PermissionSpec {
                name: full.clone(),
                implied: BTreeSet::new(),
            });
        }
        for ancestor in ancestors.iter() {
            if let Some(spec) = specs.iter_mut().find(|spec| &spec.name == ancestor) {
                spec.implied.insert(full.clone());
            }
        }
        ancestors.push(full);
        collect_permissions(prefix, subtree, ancestors, specs)?;
        ancestors.pop();
    }
    Ok(())
}

struct CollectionDef {
    name: String,
    fields: Vec<FieldSpec>,
}

struct FieldSpec {
    name: String,
    kind: Kind,
    /// (target collection, field there that points back), from `to`.
    reverse: Vec<(String, String)>,
    restriction_mode: String,
    calculated: bool,
    required: bool,
    /// Allowed values from `enum` (or `items.enum` for lists), as JSON text for numbers.
    enum_values: Vec<String>,
}

enum Kind {
    Scalar(&'static str),
    Relation(String),
    RelationList(String),
    GenericRelation(Vec<String>),
    GenericRelationList(Vec<String>),
}

fn generate(path: &str) -> Result<TokenStream2, String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("read {path}: {err}"))?;
    let root: Mapping =
        serde_yaml::from_str(&text).map_err(|err| format!("parse {path} as YAML: {err}"))?;
    let collections = parse_collections(&root)?;
    Ok(emit(path, &collections))
}

fn parse_collections(root: &Mapping) -> Result<Vec<CollectionDef>, String> {
    let mut collections = Vec::new();
    for (name, fields) in root {
        let name = name
            .as_str()
            .ok_or("models.yml: a collection name is not a string")?;
        if name.starts_with('_') {
            continue;
        }
        let fields = fields
            .as_mapping()
            .ok_or_else(|| format!("models.yml: collection {name} is not a mapping"))?;

        let mut specs = Vec::new();
        for (field_name, def) in fields {
            let field_name = field_name
                .as_str()
                .ok_or_else(|| format!("models.yml: a field name of {name} is not a string"))?;
            let spec = parse_field(field_name, def)
                .map_err(|err| format!("models.yml: field {name}/{field_name}: {err}"))?;
            specs.push(spec);
        }
        collections.push(CollectionDef {
            name: name.to_string(),
            fields: specs,
        });
    }

    let known: BTreeSet<&str> = collections.iter().map(|c| c.name.as_str()).collect();
    for collection in &collections {
        for field in &collection.fields {
            for target in field.kind.targets() {
                if !known.contains(target.as_str()) {
                    return Err(format!(
                        "models.yml: field {}/{} points to unknown collection {target}",
                        collection.name, field.name
                    ));
                }
            }
        }
    }
    Ok(collections)
}

fn parse_field(name: &str, def: &Value) -> Result<FieldSpec, String> {
    let def = def.as_mapping().ok_or("definition is not a mapping")?;
    let get = |key: &str| def.get(Value::String(key.to_string()));
    let field_type = get("type").and_then(Value::as_str).ok_or("missing type")?;
    let restriction_mode = get("restriction_mode")
        .and_then(Value::as_str)
        .ok_or("missing restriction_mode")?
        .to_string();
    let calculated = get("calculated").and_then(Value::as_bool).unwrap_or(false);
    let enum_list = get("enum").or_else(|| {
        get("items")
            .and_then(Value::as_mapping)
            .and_then(|items| items.get(Value::String("enum".into())))
    });
    let enum_values = match enum_list {
        None => Vec::new(),
        Some(list) => list
            .as_sequence()
            .ok_or("`enum` is not a list")?
            .iter()
            .map(|value| match value {
                Value::String(text) => Ok(text.clone()),
                Value::Number(number) => Ok(number.to_string()),
                _ => Err("`enum` value is neither string nor number".to_string()),
            })
            .collect::<Result<_, _>>()?,
    };
    let required = get("required").and_then(Value::as_bool).unwrap_or(false);

    let reverse = match get("to") {
        Some(to) => parse_reverse(to)?,
        None => Vec::new(),
    };
    let kind = match field_type {
        "relation" | "relation-list" => {
            let targets = parse_targets(get("to").ok_or("relation without `to`")?)?;
            let [target] = <[String; 1]>::try_from(targets)
                .map_err(|_| "a relation must point to exactly one collection".to_string())?;
            if field_type == "relation" {
                Kind::Relation(target)
            } else {
                Kind::RelationList(target)
            }
        }
        "generic-relation" => {
            Kind::GenericRelation(parse_targets(get("to").ok_or("relation without `to`")?)?)
        }
        "generic-relation-list" => {
            Kind::GenericRelationList(parse_targets(get("to").ok_or("relation without `to`")?)?)
        }
        other => Kind::Scalar(scalar_variant(other)?),
    };

    Ok(FieldSpec {
        name: name.to_string(),
        kind,
        reverse,
        restriction_mode,
        calculated,
        required,
        enum_values,
    })
}

/// Reads the target collections of `to`, which is `collection/field`, a list of those, or
/// `{collections: [...], field: ...}`.
fn parse_targets(to: &Value) -> Result<Vec<String>, String> {
    let collection_of = |text: &str| text.split('/').next().unwrap_or(text).to_string();
    match to {
        Value::String(text) => Ok(vec![collection_of(text)]),
        Value::Sequence(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(collection_of)
                    .ok_or_else(|| "`to` list entry is not a string".to_string())
            })
            .collect(),
        Value::Mapping(map) => {
            let list = map
                .get(Value::String("collections".into()))
                .and_then(Value::as_sequence)
                .ok_or("`to` mapping without `collections` list")?;
            list.iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| "`collections` entry is not a string".to_string())
                })
                .collect()
        }
        _ => Err("`to` has an unknown form".into()),
    }
}

/// Reads the pairs of target collection and back-pointing field from `to`.
fn parse_reverse(to: &Value) -> Result<Vec<(String, String)>, String> {
    let split = |text: &str| -> Result<(String, String), String> {
        text.split_once('/')
            .map(|(c, f)| (c.to_string(), f.to_string()))
            .ok_or_else(|| format!("`to` entry {text} is not collection/field"))
    };
    match to {
        Value::String(text) => Ok(vec![split(text)?]),
        Value::Sequence(items) => items
            .iter()
            .map(|item| split(item.as_str().ok_or("`to` list entry is not a string")?))
            .collect(),
        Value::Mapping(map) => {
            let field = map
                .get(Value::String("field".into()))
                .and_then(Value::as_str)
                .ok_or("`to` mapping without `field`")?;
            Ok(parse_targets(to)?
                .into_iter()
                .map(|collection| (collection, field.to_string()))
                .collect())
        }
        _ => Err("`to` has an unknown form".into()),
    }
}

fn scalar_variant(field_type: &str) -> Result<&'static str, String> {
    Ok(match field_type {
        "string" => "String",
        "text" => "Text",
        "HTMLStrict" => "HtmlStrict",
        "HTMLPermissive" => "HtmlPermissive",
        "color" => "Color",
        "number" => "Number",
        "float" => "Float",
        "boolean" => "Boolean",
        "JSON" => "Json",
        "timestamp" => "Timestamp",
        "number[]" => "NumberList",
        "string[]" => "StringList",
        other if other.starts_with("decimal") => "Decimal",
        other => return Err(format!("unknown field type {other}")),
    })
}

impl Kind {
    fn targets(&self) -> Vec<&String> {
        match self {
            Kind::Scalar(_) => Vec::new(),
            Kind::Relation(target) | Kind::RelationList(target) => vec![target],
            Kind::GenericRelation(targets) | Kind::GenericRelationList(targets) => {
                targets.iter().collect()
            }
        }
    }

    /// Returns the Rust type a value of this field decodes to.
    fn value_type(&self) -> TokenStream2 {
        match self {
            Kind::Scalar(variant) => match *variant {
                "Number" | "Timestamp" => quote!(i64),
                "Float" => quote!(f64),
                "Boolean" => quote!(bool),
                "Json" => quote!(serde_json::Value),
                "NumberList" => quote!(Vec<i64>),
                "StringList" => quote!(Vec<String>),
                _ => quote!(String),
            },
            Kind::Relation(_) => quote!(Id),
            Kind::RelationList(_) => quote!(Vec<Id>),
            Kind::GenericRelation(_) => quote!(Fqid),
            Kind::GenericRelationList(_) => quote!(Vec<Fqid>),
        }
    }
}

fn camel_case(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

fn emit(path: &str, collections: &[CollectionDef]) -> TokenStream2 {
    let variants: Vec<Ident> = collections
        .iter()
        .map(|c| ident(&camel_case(&c.name)))
        .collect();
    let names: Vec<&str> = collections.iter().map(|c| c.name.as_str()).collect();
    let collection_count = collections.len();

    let modes: BTreeSet<&str> = collections
        .iter()
        .flat_map(|c| c.fields.iter().map(|f| f.restriction_mode.as_str()))
        .collect();
    let mode_variants: Vec<Ident> = modes.iter().map(|m| ident(m)).collect();
    let mode_names: Vec<&str> = modes.iter().copied().collect();

    let mut field_defs = Vec::new();
    let mut ranges = Vec::new();
    let mut lookup_arms = Vec::new();
    let mut id_arms = Vec::new();
    let mut typed_modules = Vec::new();
    let mut next_id: u16 = 0;

    for (collection, variant) in collections.iter().zip(&variants) {
        let first = next_id;
        let mut name_arms = Vec::new();
        let mut typed_consts = Vec::new();

        for field in &collection.fields {
            let field_name = field.name.as_str();
            let mode = ident(&field.restriction_mode);
            let calculated = field.calculated;
            let required = field.required;
            let enum_values = &field.enum_values;
            let kind = match &field.kind {
                Kind::Scalar(scalar) => {
                    let scalar = ident(scalar);
                    quote!(FieldKind::Scalar(ScalarType::#scalar))
                }
                Kind::Relation(target) => {
                    let target = ident(&camel_case(target));
                    quote!(FieldKind::Relation(Collection::#target))
                }
                Kind::RelationList(target) => {
                    let target = ident(&camel_case(target));
                    quote!(FieldKind::RelationList(Collection::#target))
                }
                Kind::GenericRelation(targets) => {
                    let targets = targets.iter().map(|t| ident(&camel_case(t)));
                    quote!(FieldKind::GenericRelation(&[#(Collection::#targets),*]))
                }
                Kind::GenericRelationList(targets) => {
                    let targets = targets.iter().map(|t| ident(&camel_case(t)));
                    quote!(FieldKind::GenericRelationList(&[#(Collection::#targets),*]))
                }
            };
            let reverse = field.reverse.iter().map(|(target, back)| {
                let target = ident(&camel_case(target));
                quote!((Collection::#target, #back))
            });
            field_defs.push(quote! {
                FieldDef {
                    collection: Collection::#variant,
                    name: #field_name,
                    kind: #kind,
                    reverse: &[#(#reverse),*],
                    restriction_mode: RestrictionMode::#mode,
                    calculated: #calculated,
                    required: #required,
                    enum_values: &[#(#enum_values),*],
                }
            });

            let id = next_id;
            name_arms.push(quote!(#field_name => ::core::option::Option::Some(FieldId(#id)),));
            if field_name == "id" {
                id_arms.push(quote!(Collection::#variant => FieldId(#id),));
            }

            let const_name = ident(&field_name.to_ascii_uppercase());
            let value_type = field.kind.value_type();
            let doc = format!("`{}/{}`", collection.name, field_name);
            typed_consts.push(quote! {
                #[doc = #doc]
                pub const #const_name: Field<#variant, #value_type> = Field::new(FieldId(#id));
            });
            next_id += 1;
        }

        let last = next_id;
        ranges.push(quote!(Collection::#variant => (#first, #last),));
        lookup_arms.push(quote! {
            Collection::#variant => match name { #(#name_arms)* _ => ::core::option::Option::None },
        });

        let doc = format!("The `{}` collection as a type.", collection.name);
        typed_modules.push(quote! {
            #[doc = #doc]
            #[derive(Clone, Copy, Debug)]
            pub struct #variant;

            impl Model for #variant {
                const COLLECTION: Collection = Collection::#variant;
            }

            impl #variant {
                #(#typed_consts)*
            }
        });
    }

    let field_count = field_defs.len();
    quote! {
        // Rebuilds this crate when models.yml changes.
        const _: &[u8] = include_bytes!(#path);

        /// A collection of models.yml.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Collection {
            #(#variants),*
        }

        impl Collection {
            /// Every collection, in the order of models.yml.
            pub const ALL: [Collection; #collection_count] = [#(Collection::#variants),*];

            /// Returns the collection's name as models.yml spells it.
            pub const fn name(self) -> &'static str {
                match self {
                    #(Collection::#variants => #names),*
                }
            }

            /// Looks a collection up by its models.yml name.
            pub fn from_name(name: &str) -> ::core::option::Option<Collection> {
                match name {
                    #(#names => ::core::option::Option::Some(Collection::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }

            /// Lists the ids of this collection's fields, in the order of models.yml.
            pub fn field_ids(self) -> impl ExactSizeIterator<Item = FieldId> {
                let (first, last) = match self { #(#ranges)* };
                (first..last).map(FieldId)
            }

            /// Looks a field of this collection up by name.
            pub fn field(self, name: &str) -> ::core::option::Option<FieldId> {
                match self { #(#lookup_arms)* }
            }

            /// Returns the collection's `id` field, which is set on every existing object.
            pub const fn id_field(self) -> FieldId {
                match self { #(#id_arms)* }
            }
        }

        /// A restriction mode of models.yml: which rule of its collection decides who may
        /// see a field.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RestrictionMode {
            #(#mode_variants),*
        }

        impl RestrictionMode {
            /// Returns the mode's letter as models.yml spells it.
            pub const fn name(self) -> &'static str {
                match self { #(RestrictionMode::#mode_variants => #mode_names),* }
            }

            /// Looks a mode up by its letter.
            pub fn from_name(name: &str) -> ::core::option::Option<RestrictionMode> {
                match name {
                    #(#mode_names => ::core::option::Option::Some(RestrictionMode::#mode_variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        /// Every field of models.yml, indexed by `FieldId`.
        pub static FIELD_DEFS: [FieldDef; #field_count] = [#(#field_defs),*];

        /// One marker type per collection with its typed fields, such as
        /// `collections::Motion::TITLE`.
        pub mod collections {
            use super::*;
            #(#typed_modules)*
        }
    }
}
