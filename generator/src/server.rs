//! Generation of the server source: the wire types, route table, handler slots, rule constants
//! and response schemas a server of the spec (the emulator) builds on.
//!
//! The output is one module of plain items, included by the server crate:
//! - a serde type per component schema, named as the spec names it: structs for objects, enums with
//!   their wire names (`as_str`, `from_wire`, `ALL`) for string enums, an untagged enum for a
//!   `oneOf` of shapes;
//! - `OPERATIONS`, every operation's id, method and path template, and `query::<operation>::*`,
//!   the names of its query parameters;
//! - `Handlers<S>`, one field per operation, and its `router()` mounting each on its method and
//!   path: an operation added to the spec is a missing field, named by the compiler;
//! - `rules`, the constants for the rules the spec states, the same module the client gets
//!   ([`crate::rules`]);
//! - `SCHEMA_DEFINITIONS` and `RESPONSE_SCHEMAS`, the JSON Schema of every response, for
//!   validating what the server answers.
//!
//! Two directions shape the types. What a response carries is typed strictly (times as
//! `chrono::DateTime<Utc>`, statuses as enums). What a request carries is read leniently where the
//! server answers its own message for a bad value: date-times and enum values stay text (checked by
//! the server's rules with a 400), ids accept a string or a number (the spec's convention), and a
//! property the options name as "any JSON" is a `serde_json::Value`.
//!
//! The including crate provides `crate::wire::{FlexId, non_null, serialize_time,
//! serialize_optional_time}`, the conventions of the wire that are code rather than data.

use std::collections::BTreeSet;
use std::path::Path;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use serde_json::{Map, Value};

use crate::Error;
use crate::spec::{Spec, pascal_case, schema_ref_name};

/// What the server reads differently from the spec's schemas.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// `(schema, property)` pairs read as any JSON (`serde_json::Value`), because the server's own
    /// rule decides what it accepts there.
    pub any_json: Vec<(String, String)>,
}

impl ServerOptions {
    /// Reads `schema.property` as any JSON.
    pub fn any_json(mut self, schema: &str, property: &str) -> Self {
        self.any_json.push((schema.into(), property.into()));
        self
    }
}

/// Generates the formatted server source for `spec`.
pub fn generate_server(spec: &Spec, options: &ServerOptions) -> Result<String, Error> {
    crate::codegen::format(generate_server_tokens(spec, options)?)
}

/// What the emulator's `build.rs` does: lint the spec, generate the server source and write it
/// to `out`, rewriting the file only when its content changed.
pub fn write_server_with(
    spec: impl AsRef<Path>,
    out: impl AsRef<Path>,
    options: &ServerOptions,
) -> Result<(), Error> {
    let spec = crate::load_checked(spec)?;
    crate::write_if_changed(out.as_ref(), &generate_server(&spec, options)?)
}

fn generate_server_tokens(spec: &Spec, options: &ServerOptions) -> Result<TokenStream, Error> {
    let canonical = spec.canonical();
    let typegen = Gen::new(&canonical, options);
    let types = typegen.types()?;
    let operations = operations(spec)?;
    let constants = crate::calls::rules_tokens(spec)?;
    let schemas = response_schemas(spec)?;
    let query = query_names(spec)?;
    Ok(quote! {
        #types
        #operations
        #query
        #constants
        #schemas
    })
}

/// Which way a schema travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

struct Gen<'a> {
    spec: &'a Spec,
    options: &'a ServerOptions,
    requests: BTreeSet<String>,
    responses: BTreeSet<String>,
}

impl<'a> Gen<'a> {
    fn new(spec: &'a Spec, options: &'a ServerOptions) -> Self {
        let mut requests = BTreeSet::new();
        let mut responses = BTreeSet::new();
        for op in spec.operations() {
            if let Some(schema) = spec.request_schema(&op) {
                reach(spec, schema, &mut requests);
            }
            for response in op
                .value
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|r| r.values())
            {
                if let Some(schema) = spec
                    .resolve(response)
                    .pointer("/content/application~1json/schema")
                {
                    reach(spec, schema, &mut responses);
                }
            }
        }
        Self {
            spec,
            options,
            requests,
            responses,
        }
    }

    fn types(&self) -> Result<TokenStream, Error> {
        let mut out = TokenStream::new();
        for (name, schema) in self.spec.schemas().into_iter().flatten() {
            out.extend(self.component(name, schema)?);
        }
        Ok(out)
    }

    fn component(&self, name: &str, schema: &Value) -> Result<TokenStream, Error> {
        let location = format!("components.schemas.{name}");
        let ident = rust_ident(name, &location)?;
        let doc = doc_text(schema).unwrap_or_else(|| format!("`{name}` of the spec."));
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return string_enum(&ident, &doc, values, &location);
        }
        if let Some(members) = schema.get("oneOf").and_then(Value::as_array) {
            return self.shapes(&ident, &doc, members, &location);
        }
        let derives = self.derives(name);
        let mut fields = TokenStream::new();
        for member in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(base) = schema_ref_name(member) {
                let field = format_ident!("{}", snake_case(base));
                let ty = rust_ident(base, &location)?;
                let doc = format!("The `{base}` part.");
                fields.extend(quote! { #[doc = #doc] #[serde(flatten)] pub #field: #ty, });
            } else {
                fields.extend(self.fields(name, member, &location)?);
            }
        }
        fields.extend(self.fields(name, schema, &location)?);
        let deny = (schema.get("additionalProperties") == Some(&Value::Bool(false)))
            .then(|| quote! { #[serde(deny_unknown_fields)] });
        Ok(quote! {
            #[doc = #doc]
            #derives
            #deny
            pub struct #ident { #fields }
        })
    }

    /// A request schema derives `Deserialize`, a response schema `Serialize` (a schema both sides
    /// use derives both).
    fn derives(&self, name: &str) -> TokenStream {
        let request = self.requests.contains(name);
        let response = self.responses.contains(name) || !request;
        let ser = response.then(|| quote! { serde::Serialize, });
        let de = request.then(|| quote! { serde::Deserialize, });
        quote! { #[derive(Debug, Clone, PartialEq, #ser #de)] }
    }

    fn side(&self, name: &str) -> Side {
        if self.requests.contains(name) {
            Side::Request
        } else {
            Side::Response
        }
    }

    /// A `oneOf` of named shapes: an untagged enum, each variant named after its shape.
    fn shapes(
        &self,
        ident: &Ident,
        doc: &str,
        members: &[Value],
        location: &str,
    ) -> Result<TokenStream, Error> {
        let variants = members
            .iter()
            .map(|member| {
                let name = schema_ref_name(member).ok_or_else(|| {
                    Error::Generate(format!("{location}: a oneOf member must be a $ref"))
                })?;
                let variant = rust_ident(name, location)?;
                let doc = format!("A `{name}`.");
                Ok(quote! { #[doc = #doc] #variant(#variant), })
            })
            .collect::<Result<TokenStream, Error>>()?;
        let derives = self.derives(&ident.to_string());
        Ok(quote! {
            #[doc = #doc]
            #derives
            #[serde(untagged)]
            pub enum #ident { #variants }
        })
    }

    fn fields(&self, owner: &str, schema: &Value, location: &str) -> Result<TokenStream, Error> {
        let required = crate::spec::required_properties(schema);
        let mut out = TokenStream::new();
        for (property, value) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let at = format!("{location}.properties.{property}");
            out.extend(self.field(
                owner,
                property,
                value,
                required.contains(property.as_str()),
                &at,
            )?);
        }
        Ok(out)
    }

    fn field(
        &self,
        owner: &str,
        property: &str,
        schema: &Value,
        required: bool,
        location: &str,
    ) -> Result<TokenStream, Error> {
        let side = self.side(owner);
        let ident = field_ident(property, location)?;
        let doc = doc_text(schema).unwrap_or_else(|| format!("`{property}`."));
        let any_json = self
            .options
            .any_json
            .iter()
            .any(|(s, p)| s == owner && p == property);
        let (ty, nullable, free_form) = if any_json {
            (quote! { serde_json::Value }, false, false)
        } else {
            self.rust_type(property, schema, side, location)?
        };
        let time = side == Side::Response && is_time(self.spec, schema);
        // A response states every nullable and every free-form property, null included, as the
        // service does; only a property that cannot be null is left out when absent.
        let stated = side == Side::Response && (nullable || free_form);
        let attrs = match (required || stated, nullable) {
            (true, false) => {
                let with = time
                    .then(|| quote! { #[serde(serialize_with = "crate::wire::serialize_time")] });
                return Ok(quote! { #[doc = #doc] #with pub #ident: #ty, });
            }
            (true, true) => {
                let with = time.then(
                    || quote! { #[serde(serialize_with = "crate::wire::serialize_optional_time")] },
                );
                return Ok(quote! { #[doc = #doc] #with pub #ident: Option<#ty>, });
            }
            // Absent or null: both mean "not given".
            (false, true) => quote! { #[serde(default, skip_serializing_if = "Option::is_none")] },
            // Any JSON admits null as a value of its own.
            (false, false) if free_form => {
                quote! { #[serde(default, skip_serializing_if = "Option::is_none")] }
            }
            // Absent is "not given"; null is not a value of the property (422).
            (false, false) => quote! {
                #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::wire::non_null")]
            },
        };
        let with = time
            .then(|| quote! { #[serde(serialize_with = "crate::wire::serialize_optional_time")] });
        Ok(quote! { #[doc = #doc] #attrs #with pub #ident: Option<#ty>, })
    }

    /// The Rust type of a property's schema, whether it is nullable, and whether it is free-form.
    fn rust_type(
        &self,
        property: &str,
        schema: &Value,
        side: Side,
        location: &str,
    ) -> Result<(TokenStream, bool, bool), Error> {
        let nullable = schema.get("nullable") == Some(&Value::Bool(true));
        if let Some(name) = schema_ref_name(schema) {
            let target = self.spec.resolve(schema);
            if side == Side::Request && target.get("enum").is_some() {
                return Ok((quote! { String }, nullable, false));
            }
            let ident = rust_ident(name, location)?;
            return Ok((quote! { #ident }, nullable, false));
        }
        if let Some([only]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            let (ty, inner, free) = self.rust_type(property, only, side, location)?;
            return Ok((ty, nullable || inner, free));
        }
        let ty = match schema.get("type").and_then(Value::as_str) {
            None => return Ok((quote! { serde_json::Value }, false, true)),
            Some("string") if side == Side::Request && is_id(property) => {
                quote! { crate::wire::FlexId }
            }
            Some("string") if side == Side::Response && is_time(self.spec, schema) => {
                quote! { chrono::DateTime<chrono::Utc> }
            }
            Some("string") => quote! { String },
            Some("boolean") => quote! { bool },
            Some("integer") if schema.get("format") == Some(&Value::from("int32")) => {
                quote! { i32 }
            }
            Some("integer") => quote! { i64 },
            Some("number") => quote! { f64 },
            Some("array") => {
                let items = schema.get("items").unwrap_or(&Value::Null);
                let singular = property.strip_suffix('s').unwrap_or(property);
                let (item, _, _) = self.rust_type(singular, items, side, location)?;
                quote! { Vec<#item> }
            }
            Some("object") => match schema.get("additionalProperties") {
                Some(Value::Object(values)) if schema.get("properties").is_none() => {
                    let (value, _, _) =
                        self.rust_type(property, &Value::Object(values.clone()), side, location)?;
                    quote! { std::collections::BTreeMap<String, #value> }
                }
                _ => {
                    return Err(Error::Generate(format!(
                        "{location}: an inline object needs a named component schema"
                    )));
                }
            },
            Some(other) => {
                return Err(Error::Generate(format!(
                    "{location}: type `{other}` has no Rust form"
                )));
            }
        };
        Ok((ty, nullable, false))
    }
}

/// Adds the component schemas `schema` refers to, transitively, to `names`.
fn reach(spec: &Spec, schema: &Value, names: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(name) = schema_ref_name(schema)
                && names.insert(name.to_string())
                && let Some(target) = spec.schemas().and_then(|s| s.get(name))
            {
                reach(spec, target, names);
            }
            map.values().for_each(|v| reach(spec, v, names));
        }
        Value::Array(items) => items.iter().for_each(|v| reach(spec, v, names)),
        _ => {}
    }
}

/// A string enum with its wire names.
fn string_enum(
    ident: &Ident,
    doc: &str,
    values: &[Value],
    location: &str,
) -> Result<TokenStream, Error> {
    let wire: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    let variants = wire
        .iter()
        .map(|value| rust_ident(&pascal_case(value), location))
        .collect::<Result<Vec<_>, Error>>()?;
    let count_lit = proc_macro2::Literal::usize_unsuffixed(wire.len());
    let docs = wire.iter().map(|value| format!("`{value}`."));
    Ok(quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum #ident {
            #( #[doc = #docs] #[serde(rename = #wire)] #variants, )*
        }

        impl #ident {
            /// Every value, in the spec's order.
            pub const ALL: [Self; #count_lit] = [#(Self::#variants),*];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { #(Self::#variants => #wire,)* }
            }

            /// The value with this wire name, if any.
            pub fn from_wire(name: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|value| value.as_str() == name)
            }
        }
    })
}

fn operations(spec: &Spec) -> Result<TokenStream, Error> {
    let mut rows = Vec::new();
    let mut fields = Vec::new();
    // Operations grouped by path, in document order, so that each path is mounted once.
    let mut paths: Vec<(&str, Vec<(Ident, Ident)>)> = Vec::new();
    for op in spec.operations() {
        let Some(id) = op.id() else { continue };
        let method = op.method.to_uppercase();
        let path = op.path;
        rows.push(quote! { Operation { id: #id, method: #method, path: #path } });
        let field = rust_ident(id, &op.location())?;
        let doc = format!(
            "`{method} {path}`: {}",
            op.value
                .get("summary")
                .and_then(Value::as_str)
                .unwrap_or(id)
        );
        fields.push(quote! { #[doc = #doc] pub #field: Handler<S>, });
        let filter = format_ident!("{method}");
        match paths.iter_mut().find(|(p, _)| *p == path) {
            Some((_, ops)) => ops.push((field, filter)),
            None => paths.push((path, vec![(field, filter)])),
        }
    }
    let mounts = paths.iter().map(|(path, ops)| {
        let (first, rest) = ops
            .split_first()
            .expect("a path holds at least one operation");
        let (field, filter) = first;
        let rest = rest.iter().map(|(field, filter)| {
            quote! { .merge((self.#field.0)(axum::routing::MethodFilter::#filter)) }
        });
        quote! {
            .route(#path, (self.#field.0)(axum::routing::MethodFilter::#filter) #(#rest)*)
        }
    });
    Ok(quote! {
        /// One operation of the spec.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Operation {
            /// The `operationId`.
            pub id: &'static str,
            /// The upper-case HTTP method.
            pub method: &'static str,
            /// The path template, e.g. `/webhooks/apps/{app_slug}`.
            pub path: &'static str,
        }

        /// Every operation of the spec, in document order.
        pub const OPERATIONS: &[Operation] = &[#(#rows),*];

        /// The operation with this method and path template, if any.
        pub fn operation(method: &str, path: &str) -> Option<&'static Operation> {
            OPERATIONS.iter().find(|op| op.method.eq_ignore_ascii_case(method) && op.path == path)
        }

        /// A handler for one operation; its method and path come from the spec.
        pub struct Handler<S>(Box<dyn FnOnce(axum::routing::MethodFilter) -> axum::routing::MethodRouter<S>>);

        /// Wraps an axum handler for a field of [`Handlers`].
        pub fn handler<H, T, S>(h: H) -> Handler<S>
        where
            H: axum::handler::Handler<T, S>,
            T: 'static,
            S: Clone + Send + Sync + 'static,
        {
            Handler(Box::new(move |filter| axum::routing::on(filter, h)))
        }

        /// One handler per operation of the spec.
        pub struct Handlers<S> { #(#fields)* }

        impl<S: Clone + Send + Sync + 'static> Handlers<S> {
            /// A router that mounts every handler on its operation's method and path.
            pub fn router(self) -> axum::Router<S> {
                axum::Router::new() #(#mounts)*
            }
        }
    })
}

/// The names of each operation's query parameters, so that a server reads them by the spec's
/// names (a parameter removed from the spec no longer compiles).
fn query_names(spec: &Spec) -> Result<TokenStream, Error> {
    let mut modules = TokenStream::new();
    for op in spec.operations() {
        let Some(id) = op.id() else { continue };
        let names: Vec<&str> = spec
            .parameters(&op)
            .into_iter()
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
            .filter_map(|p| p.get("name").and_then(Value::as_str))
            .collect();
        if names.is_empty() {
            continue;
        }
        let module = rust_ident(id, &op.location())?;
        let consts = names.iter().map(|name| {
            let ident = format_ident!("{}", name.to_uppercase());
            let doc = format!("`{name}`.");
            quote! { #[doc = #doc] pub const #ident: &str = #name; }
        });
        let doc = format!("Query parameters of `{id}`.");
        modules.extend(quote! { #[doc = #doc] pub mod #module { #(#consts)* } });
    }
    Ok(quote! {
        /// The query parameter names of each operation, by operation id.
        pub mod query { #modules }
    })
}

/// The JSON Schema of every response, for validation.
fn response_schemas(spec: &Spec) -> Result<TokenStream, Error> {
    let definitions: Map<String, Value> = spec
        .schemas()
        .into_iter()
        .flatten()
        .map(|(name, schema)| (name.clone(), crate::to_json_schema(schema)))
        .collect();
    let definitions = Value::Object(definitions).to_string();
    let mut rows = Vec::new();
    for op in spec.operations() {
        let Some(id) = op.id() else { continue };
        for (status, response) in op
            .value
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(schema) = spec
                .resolve(response)
                .pointer("/content/application~1json/schema")
            else {
                continue;
            };
            let schema = crate::to_json_schema(schema).to_string();
            rows.push(quote! { (#id, #status, #schema) });
        }
    }
    Ok(quote! {
        /// The component schemas as JSON Schema `definitions` (refer to them as `#/definitions/Name`).
        pub const SCHEMA_DEFINITIONS: &str = #definitions;

        /// `(operation id, response status key, JSON Schema)` of every JSON response of the spec.
        /// A status key is a code (`200`) or a range (`4XX`).
        pub const RESPONSE_SCHEMAS: &[(&str, &str, &str)] = &[#(#rows),*];
    })
}

fn is_time(spec: &Spec, schema: &Value) -> bool {
    let schema = spec.resolve(schema);
    schema.get("format") == Some(&Value::from("date-time"))
}

/// Ids are snowflake integers that requests may send as a string or a number.
fn is_id(property: &str) -> bool {
    property == "id" || property.ends_with("_id")
}

fn doc_text(schema: &Value) -> Option<String> {
    let text = schema.get("description")?.as_str()?.trim();
    Some(text.split("\n\n").next().unwrap_or(text).to_string())
}

fn rust_ident(name: &str, location: &str) -> Result<Ident, Error> {
    syn::parse_str::<Ident>(name).map_err(|_| {
        Error::Generate(format!(
            "{location}: `{name}` is not a Rust identifier, which the generated code needs here"
        ))
    })
}

fn field_ident(name: &str, location: &str) -> Result<Ident, Error> {
    syn::parse_str::<Ident>(name)
        .or_else(|_| syn::parse_str::<Ident>(&format!("r#{name}")))
        .map_err(|_| {
            Error::Generate(format!(
                "{location}: `{name}` is not a Rust field name, which the generated code needs here"
            ))
        })
}

fn snake_case(pascal: &str) -> String {
    let mut out = String::new();
    for (i, c) in pascal.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
