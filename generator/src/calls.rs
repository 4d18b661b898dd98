//! The calls of `Webhooks`, the list of public wire types, and the server rules as constants, all
//! from the spec.
//!
//! Every operation becomes one `async fn` of `Webhooks` named by its `operationId`: path
//! parameters as `&str` in the spec's order, then the request body, then the query options type.
//! A body property named like a path parameter is filled from the path. Answers map as follows: a
//! `{data, has_more}` envelope becomes `Page<T>`, an object schema without properties (`{}`) becomes
//! `()`, anything else is the model itself. A list that pages by `limit` and `offset` also gets a
//! `<call>_stream` twin on the hand-written pager. Where the wire leaves a choice, the operation's
//! `x-client` object says it (see the spec's header comment):
//! `body-args`, `unwrap`, `options: none | separate`, `stream: filtered`. A request body that is not
//! an object (a `oneOf`) has no generated builder: the call takes the hand-written type the crate
//! root names after the schema, which converts through `crate::client::IntoWire`.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::Error;
use crate::codegen::{
    Paginated, Shapes, doc_text, generic_inner, options_type_name, paginated, query_parameters,
    rust_ident,
};
use crate::spec::{Operation, Spec, schema_ref_name};

/// The extension that shapes a call where the wire leaves a choice.
pub const CLIENT_EXTENSION: &str = "x-client";

/// The extension that holds an operation's examples; those with `lang: Rust` become doctests.
pub const CODE_SAMPLES: &str = "x-codeSamples";

/// How the spec shapes one call (`x-client`).
#[derive(Default)]
struct CallShape {
    options: OptionsStyle,
    body_args: Option<Vec<String>>,
    unwrap: Option<String>,
    filtered_stream: bool,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum OptionsStyle {
    /// The call takes the options type as its last argument.
    #[default]
    Argument,
    /// The call takes no options (the server ignores its query parameters).
    None,
    /// The call sends none; a `<call>_with` twin takes them.
    Separate,
}

fn bad(location: &str, message: &str) -> Error {
    Error::Generate(format!("{location}: {message}"))
}

fn call_shape(op: &Operation<'_>) -> Result<CallShape, Error> {
    let location = format!("{}.{CLIENT_EXTENSION}", op.location());
    let mut shape = CallShape::default();
    let Some(ext) = op.value.get(CLIENT_EXTENSION) else {
        return Ok(shape);
    };
    let Some(map) = ext.as_object() else {
        return Err(bad(&location, "must be an object"));
    };
    for (key, value) in map {
        match (key.as_str(), value) {
            ("options", Value::String(s)) if s == "none" => shape.options = OptionsStyle::None,
            ("options", Value::String(s)) if s == "separate" => {
                shape.options = OptionsStyle::Separate
            }
            ("body-args", Value::Array(items)) => {
                let names = items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        bad(&format!("{location}.body-args"), "must list property names")
                    })?;
                shape.body_args = Some(names);
            }
            ("unwrap", Value::String(s)) => shape.unwrap = Some(s.clone()),
            ("stream", Value::String(s)) if s == "filtered" => shape.filtered_stream = true,
            _ => {
                return Err(bad(
                    &format!("{location}.{key}"),
                    "is not one of `options: none | separate`, `body-args: [property, ...]`, `unwrap: property`, `stream: filtered`",
                ));
            }
        }
    }
    Ok(shape)
}

/// One path parameter of a call.
struct PathParam {
    ident: Ident,
    name: String,
    doc: String,
    example: String,
}

/// What the call sends as its body.
enum Body {
    None,
    /// The generated request type, with the properties the path fills.
    Model {
        ty: Ident,
        from_path: Vec<Ident>,
    },
    /// The body's properties as the call's arguments.
    Args {
        ty: Ident,
        args: Vec<(Ident, syn::Type, bool)>,
    },
    /// A hand-written type of the schema's name, converted by `IntoWire`.
    HandWritten {
        ty: Ident,
    },
}

/// What the call returns.
enum Output {
    Model(Ident),
    Page(Ident),
    Empty,
    Field(Ident, Box<syn::Type>),
}

/// Everything needed to emit one operation's methods.
struct Call<'a> {
    id: &'a str,
    ident: Ident,
    op: Operation<'a>,
    shape: CallShape,
    path: Vec<PathParam>,
    /// The options type, when the operation has query parameters.
    options: Option<Ident>,
    offset_paged: bool,
    body: Body,
    output: Output,
    progenitor: &'a syn::ImplItemFn,
    idempotent: bool,
}

/// `impl Webhooks` with a method per operation (and `_with`/`_stream` twins), plus the row filter
/// each stream uses.
pub(crate) fn calls(spec: &Spec, shapes: &Shapes) -> Result<TokenStream, Error> {
    let pages: BTreeMap<String, Paginated> = paginated(spec)
        .into_iter()
        .map(|p| (p.operation_id.clone(), p))
        .collect();
    let mut methods = TokenStream::new();
    let mut filters = TokenStream::new();
    for op in spec.operations() {
        let Some(id) = op.id() else { continue };
        let call = Call::read(spec, shapes, op, id, pages.get(id))?;
        methods.extend(call.methods());
        filters.extend(call.row_filter());
    }
    Ok(quote! {
        /// The calls of the API, one per operation of the spec.
        impl crate::client::Webhooks {
            #methods
        }
        #filters
    })
}

impl<'a> Call<'a> {
    fn read(
        spec: &'a Spec,
        shapes: &'a Shapes,
        op: Operation<'a>,
        id: &'a str,
        page: Option<&Paginated>,
    ) -> Result<Call<'a>, Error> {
        let location = op.location();
        let ident = rust_ident(id, &format!("{location}.operationId"))?;
        let shape = call_shape(&op)?;
        let progenitor = shapes.methods.get(id).ok_or_else(|| {
            Error::Generate(format!("{location}: progenitor emitted no method `{id}`"))
        })?;
        let path = spec
            .parameters(&op)
            .into_iter()
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
            .map(|p| {
                let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                Ok(PathParam {
                    ident: rust_ident(name, &format!("{location}.parameters.{name}"))?,
                    name: name.to_string(),
                    doc: one_line(p.get("description").and_then(Value::as_str).unwrap_or("")),
                    example: p
                        .get("example")
                        .and_then(Value::as_str)
                        .unwrap_or(name)
                        .to_string(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let query = query_parameters(spec, &op);
        let has_query = |name: &str| {
            query
                .iter()
                .any(|p| p.get("name").and_then(Value::as_str) == Some(name))
        };
        let options = (!query.is_empty()).then(|| format_ident!("{}", options_type_name(id)));
        if options.is_none() && shape.options != OptionsStyle::Argument {
            return Err(bad(
                &format!("{location}.{CLIENT_EXTENSION}.options"),
                "the operation has no query parameters",
            ));
        }
        let offset_paged = page.is_some()
            && options.is_some()
            && shape.options != OptionsStyle::None
            && has_query("limit")
            && has_query("offset");
        if shape.filtered_stream && !offset_paged {
            return Err(bad(
                &format!("{location}.{CLIENT_EXTENSION}.stream"),
                "only a list that pages by `limit` and `offset` has a stream",
            ));
        }
        let path_names: BTreeSet<&str> = path.iter().map(|p| p.name.as_str()).collect();
        let body = body(spec, shapes, &op, &shape, &path_names)?;
        let output = output(spec, shapes, &op, &shape, page)?;
        let idempotent = matches!(op.method, "get" | "put" | "delete" | "head" | "options")
            || op.value.get("x-idempotent") == Some(&Value::Bool(true));
        Ok(Call {
            id,
            ident,
            op,
            shape,
            path,
            options,
            offset_paged,
            body,
            output,
            progenitor,
            idempotent,
        })
    }

    fn methods(&self) -> TokenStream {
        let ident = &self.ident;
        let id = self.id;
        let doc = self.doc();
        let path_args: Vec<TokenStream> = self
            .path
            .iter()
            .map(|p| {
                let name = &p.ident;
                quote! { #name: &str }
            })
            .collect();
        let path_idents: Vec<&Ident> = self.path.iter().map(|p| &p.ident).collect();
        let (body_args, body_names, prepare) = self.body_tokens();
        let output = self.output_type();
        let map = self.output_map();
        let call = self.progenitor_call();
        let send = quote! {
            #prepare
            crate::client::finish(#id, #call).await #map
        };
        let mut out = TokenStream::new();
        match (&self.options, self.shape.options) {
            (Some(options), OptionsStyle::Argument) => out.extend(quote! {
                #[doc = #doc]
                pub async fn #ident(&self, #(#path_args,)* #(#body_args,)* options: options::#options) -> ::std::result::Result<#output, crate::Error> {
                    #send
                }
            }),
            (Some(options), OptionsStyle::None) => out.extend(quote! {
                #[doc = #doc]
                pub async fn #ident(&self, #(#path_args,)* #(#body_args,)*) -> ::std::result::Result<#output, crate::Error> {
                    let options = options::#options::default();
                    #send
                }
            }),
            (Some(options), OptionsStyle::Separate) => {
                let with = format_ident!("{}_with", ident);
                let with_doc = format!(
                    "[`Webhooks::{id}`](crate::Webhooks::{id}) with its query options ([`{options}`](crate::types::{options})).\n\nSee [`Webhooks::{id}`](crate::Webhooks::{id}) for the call, its errors and examples."
                );
                out.extend(quote! {
                    #[doc = #doc]
                    pub async fn #ident(&self, #(#path_args,)* #(#body_args,)*) -> ::std::result::Result<#output, crate::Error> {
                        self.#with(#(#path_idents,)* #(#body_names,)* options::#options::default()).await
                    }

                    #[doc = #with_doc]
                    pub async fn #with(&self, #(#path_args,)* #(#body_args,)* options: options::#options) -> ::std::result::Result<#output, crate::Error> {
                        #send
                    }
                });
            }
            (None, _) => out.extend(quote! {
                #[doc = #doc]
                pub async fn #ident(&self, #(#path_args,)* #(#body_args,)*) -> ::std::result::Result<#output, crate::Error> {
                    #send
                }
            }),
        }
        out.extend(self.stream());
        out
    }

    /// The body's arguments of the method, their names, and the statements that build the body
    /// as `request`.
    fn body_tokens(&self) -> (Vec<TokenStream>, Vec<Ident>, TokenStream) {
        let request = format_ident!("request");
        match &self.body {
            Body::None => (vec![], vec![], TokenStream::new()),
            Body::Model { ty, from_path } if from_path.is_empty() => (
                vec![quote! { request: types::#ty }],
                vec![request],
                TokenStream::new(),
            ),
            Body::Model { ty, from_path } => (
                vec![quote! { mut request: types::#ty }],
                vec![request],
                quote! { #( request.#from_path = #from_path.to_string().into(); )* },
            ),
            Body::Args { ty, args } => {
                let params = args.iter().map(|(name, ty, is_string)| match is_string {
                    true => quote! { #name: &str },
                    false => {
                        let ty = ty_in_types(ty);
                        quote! { #name: #ty }
                    }
                });
                let fields = args.iter().map(|(name, _, is_string)| match is_string {
                    true => quote! { #name: #name.to_string() },
                    false => quote! { #name },
                });
                (
                    params.collect(),
                    args.iter().map(|(name, _, _)| name.clone()).collect(),
                    quote! { let request = types::#ty { #(#fields),* }; },
                )
            }
            Body::HandWritten { ty } => {
                let id = self.id;
                (
                    vec![quote! { request: crate::#ty }],
                    vec![request],
                    quote! {
                        let request: types::#ty = crate::client::IntoWire::into_wire(request, #id)?;
                    },
                )
            }
        }
    }

    /// The call of progenitor's method (or of the options' `send`, which passes the query).
    fn progenitor_call(&self) -> TokenStream {
        let path: BTreeSet<String> = self.path.iter().map(|p| p.name.clone()).collect();
        let mut args = Vec::new();
        let mut passthrough = Vec::new();
        for input in &self.progenitor.sig.inputs {
            let syn::FnArg::Typed(param) = input else {
                continue;
            };
            let syn::Pat::Ident(pat) = &*param.pat else {
                continue;
            };
            let name = pat.ident.to_string();
            let name = name.trim_start_matches("r#");
            if name == "body" {
                args.push(quote! { &request });
                passthrough.push(quote! { &request });
            } else if path.contains(name) {
                let ident = &pat.ident;
                args.push(quote! { #ident });
                passthrough.push(quote! { #ident });
            } else {
                args.push(quote! { None });
            }
        }
        let ident = &self.ident;
        match &self.options {
            Some(_) => quote! { options.send(self.api(), #(#passthrough),*) },
            None => quote! { self.api().#ident(#(#args),*) },
        }
    }

    fn output_type(&self) -> TokenStream {
        match &self.output {
            Output::Model(ty) => quote! { types::#ty },
            Output::Page(item) => quote! { crate::Page<types::#item> },
            Output::Empty => quote! { () },
            Output::Field(_, ty) => ty_in_types(ty),
        }
    }

    fn output_map(&self) -> TokenStream {
        match &self.output {
            Output::Model(_) => TokenStream::new(),
            Output::Page(_) => quote! { .map(crate::Page::from) },
            Output::Empty => quote! { .map(drop) },
            Output::Field(field, _) => quote! { .map(|answer| answer.#field) },
        }
    }

    fn stream(&self) -> TokenStream {
        let (Some(options), Output::Page(item), true) =
            (&self.options, &self.output, self.offset_paged)
        else {
            return TokenStream::new();
        };
        let ident = &self.ident;
        let id = self.id;
        let stream = format_ident!("{}_stream", ident);
        let path: Vec<&Ident> = self.path.iter().map(|p| &p.ident).collect();
        let doc = self.stream_doc(options);
        quote! {
            #[doc = #doc]
            pub fn #stream(&self, #(#path: &str,)* options: options::#options)
                -> impl ::futures_core::Stream<Item = ::std::result::Result<types::#item, crate::Error>> + Send + 'static + use<>
            {
                let webhooks = self.clone();
                #( let #path = #path.to_string(); )*
                crate::pagination::stream(#id, options, move |page| {
                    let webhooks = webhooks.clone();
                    #( let #path = #path.clone(); )*
                    async move { webhooks.#ident(#(&#path,)* page).await }
                })
            }
        }
    }

    /// The rows a stream yields: all of them, unless the spec says the stream filters them
    /// (then the hand-written layer implements the filter for the options type).
    fn row_filter(&self) -> TokenStream {
        let (Some(options), Output::Page(item), true, false) = (
            &self.options,
            &self.output,
            self.offset_paged,
            self.shape.filtered_stream,
        ) else {
            return TokenStream::new();
        };
        quote! {
            impl crate::pagination::RowFilter<types::#item> for options::#options {
                type Filter = crate::pagination::Everything;
                fn row_filter(&self) -> Self::Filter {
                    crate::pagination::Everything
                }
            }
        }
    }

    // ----- documentation ------------------------------------------------------------------

    fn doc(&self) -> String {
        let mut doc = format!(
            "{}\n\n`{} {}`\n",
            doc_text(self.op.value).trim_end(),
            self.op.method.to_uppercase(),
            self.op.path
        );
        let mut args: Vec<String> = self
            .path
            .iter()
            .map(|p| format!("- `{}`: {}", p.name, p.doc))
            .collect();
        match &self.body {
            Body::None => {}
            Body::Model { ty, from_path } => {
                let mut line = format!("- `request`: the body, [`{ty}`](crate::types::{ty})");
                for field in from_path {
                    line.push_str(&format!(
                        "; its `{field}` is filled from the path parameter of that name"
                    ));
                }
                args.push(line + ".");
            }
            Body::Args { args: fields, .. } => {
                for (name, _, _) in fields {
                    args.push(format!("- `{name}`: the body's `{name}`."));
                }
            }
            Body::HandWritten { ty } => {
                args.push(format!("- `request`: the body, [`{ty}`](crate::{ty})."));
            }
        }
        if let (Some(options), OptionsStyle::Argument) = (&self.options, self.shape.options) {
            args.push(format!(
                "- `options`: the query parameters, [`{options}`](crate::types::{options}); `Default` sends none."
            ));
        }
        if !args.is_empty() {
            doc.push_str(&format!("\n# Arguments\n\n{}\n", args.join("\n")));
        }
        if self.offset_paged {
            doc.push_str(&format!(
                "\nTo walk every page, see [`Webhooks::{0}_stream`](crate::Webhooks::{0}_stream).\n",
                self.id
            ));
        }
        doc.push_str(&self.errors_doc());
        doc.push_str(&self.examples_doc());
        doc
    }

    fn errors_doc(&self) -> String {
        let responses = self
            .op
            .value
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(code, _)| !code.starts_with('2'))
            .map(|(code, _)| format!("`{code}`"))
            .collect::<Vec<_>>();
        let retries = match self.idempotent {
            true => {
                "Retried on 429, 502, 503, 504, timeouts and connection failures: the server treats a repeat as harmless."
            }
            false => {
                "Retried only when the request never reached the server (a failed connection): a repeat could act twice."
            }
        };
        format!(
            "\n# Errors\n\nThe server's {} answers come back as an [`Error`](crate::Error) with the status and the server's messages; timeouts, transport failures and answers that do not decode too. {retries}\n",
            responses.join(" and ")
        )
    }

    fn examples_doc(&self) -> String {
        let samples: Vec<&str> = self
            .op
            .value
            .get(CODE_SAMPLES)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|s| s.get("lang").and_then(Value::as_str) == Some("Rust"))
            .filter_map(|s| s.get("source").and_then(Value::as_str))
            .collect();
        if samples.is_empty() {
            return String::new();
        }
        let blocks: Vec<String> = samples.iter().map(|source| doctest(source)).collect();
        format!("\n# Examples\n\n{}", blocks.join("\n"))
    }

    fn stream_doc(&self, options: &Ident) -> String {
        let id = self.id;
        let mut doc = format!(
            "Every item of [`Webhooks::{id}`](crate::Webhooks::{id}), page after page.\n\n\
             Lazy (nothing is sent until the stream is polled); pages of `options.limit` from \
             `options.offset`, the next page fetched while the current one is consumed; ends when \
             a page says none follows, or with an error (see [the pagination module](crate::pagination))."
        );
        if self.shape.filtered_stream {
            doc.push_str(&format!(
                "\n\nThe stream applies the filters of [`{options}`](crate::types::{options}) to every row itself and yields each row once, whether or not the server applied them: see [filtered streams](crate::pagination#filtered-streams)."
            ));
        }
        let args: Vec<String> = self
            .path
            .iter()
            .map(|p| format!("{:?}", p.example))
            .chain([format!("{options}::new()")])
            .collect();
        let source = format!(
            "use futures_util::TryStreamExt;\nuse wacht_webhooks::types::{options};\nlet all: Vec<_> = webhooks.{id}_stream({}).try_collect().await?;\n",
            args.join(", ")
        );
        doc.push_str(&format!("\n\n# Examples\n\n{}", doctest(&source)));
        doc
    }
}

/// A code sample as a compiled example: the body of an async fn with `webhooks` in scope.
fn doctest(source: &str) -> String {
    format!(
        "```no_run\n# async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {{\n{}\n# Ok(()) }}\n```\n",
        source.trim_end()
    )
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A field type of a generated struct, as seen from outside the `types` module: names of
/// generated types (one capitalised segment, also inside `Vec` or `Option`) get `types::`.
fn ty_in_types(ty: &syn::Type) -> TokenStream {
    let generated = |t: &syn::Type| match t {
        syn::Type::Path(p)
            if p.path.segments.len() == 1 && p.path.segments[0].arguments.is_empty() =>
        {
            let ident = &p.path.segments[0].ident;
            ident
                .to_string()
                .starts_with(char::is_uppercase)
                .then(|| quote! { types::#ident })
        }
        _ => None,
    };
    if let Some(t) = generated(ty) {
        return t;
    }
    let wrappers = [
        ("Vec", quote! { ::std::vec::Vec }),
        ("Option", quote! { ::std::option::Option }),
    ];
    for (wrapper, path) in wrappers {
        if let Some(inner) = generic_inner(ty, wrapper).and_then(generated) {
            return quote! { #path<#inner> };
        }
    }
    quote! { #ty }
}

fn body(
    spec: &Spec,
    shapes: &Shapes,
    op: &Operation<'_>,
    shape: &CallShape,
    path: &BTreeSet<&str>,
) -> Result<Body, Error> {
    let location = op.location();
    let Some(schema) = spec.request_schema(op) else {
        if shape.body_args.is_some() {
            return Err(bad(
                &format!("{location}.{CLIENT_EXTENSION}.body-args"),
                "the operation has no request body",
            ));
        }
        return Ok(Body::None);
    };
    let name = schema_ref_name(schema).ok_or_else(|| {
        bad(
            &format!("{location}.requestBody"),
            "the body must be a `$ref` to a component schema",
        )
    })?;
    let ty = rust_ident(name, &format!("components.schemas.{name}"))?;
    if !shapes.structs.contains_key(name) {
        return Ok(Body::HandWritten { ty });
    }
    let properties: Vec<&String> = spec
        .schemas()
        .and_then(|s| s.get(name))
        .map(|s| spec.resolve(s))
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().collect())
        .unwrap_or_default();
    if let Some(listed) = &shape.body_args {
        let listed_set: BTreeSet<&String> = listed.iter().collect();
        let all: BTreeSet<&String> = properties.iter().copied().collect();
        if listed_set != all || listed.len() != all.len() {
            return Err(bad(
                &format!("{location}.{CLIENT_EXTENSION}.body-args"),
                &format!("must list every property of {name} once: {properties:?}"),
            ));
        }
        let args = listed
            .iter()
            .map(|property| {
                let (field, ty) = shapes.field(name, property).ok_or_else(|| {
                    bad(
                        &format!("components.schemas.{name}.properties.{property}"),
                        "no matching field in the generated struct",
                    )
                })?;
                let is_string = matches!(&ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "String"));
                Ok((field, ty, is_string))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        return Ok(Body::Args { ty, args });
    }
    let from_path = properties
        .iter()
        .filter(|p| path.contains(p.as_str()))
        .filter_map(|p| shapes.field(name, p).map(|(field, _)| field))
        .collect();
    Ok(Body::Model { ty, from_path })
}

fn output(
    spec: &Spec,
    shapes: &Shapes,
    op: &Operation<'_>,
    shape: &CallShape,
    page: Option<&Paginated>,
) -> Result<Output, Error> {
    let location = op.location();
    let name = spec
        .success_schema(op)
        .and_then(schema_ref_name)
        .ok_or_else(|| {
            bad(
                &format!("{location}.responses"),
                "the success answer must be a `$ref` to a component schema",
            )
        })?;
    if let Some(property) = &shape.unwrap {
        let (field, ty) = shapes.field(name, property).ok_or_else(|| {
            bad(
                &format!("{location}.{CLIENT_EXTENSION}.unwrap"),
                &format!("{name} has no property `{property}`"),
            )
        })?;
        return Ok(Output::Field(field, Box::new(ty)));
    }
    if let Some(page) = page {
        return Ok(Output::Page(rust_ident(
            &page.item,
            &format!("components.schemas.{}", page.item),
        )?));
    }
    let schema = spec
        .schemas()
        .and_then(|s| s.get(name))
        .map(|s| spec.resolve(s));
    if schema.is_some_and(is_empty_object) {
        return Ok(Output::Empty);
    }
    Ok(Output::Model(rust_ident(
        name,
        &format!("components.schemas.{name}"),
    )?))
}

/// `{}`: an object schema that declares no property.
fn is_empty_object(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
        && schema.get("properties").is_none()
        && ["allOf", "oneOf", "anyOf"]
            .iter()
            .all(|k| schema.get(k).is_none())
}

// ---------------------------------------------------------------------------------------------
// The public types

/// The component schemas named by `$ref`s anywhere inside `value`.
fn refs_in<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = schema_ref_name(value) {
                out.push(name);
            }
            map.values().for_each(|v| refs_in(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs_in(v, out)),
        _ => {}
    }
}

/// `roots` and every schema they reach.
fn closure<'a>(spec: &'a Spec, roots: Vec<&'a str>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue = roots;
    while let Some(name) = queue.pop() {
        if !seen.insert(name.to_string()) {
            continue;
        }
        if let Some(schema) = spec.schemas().and_then(|s| s.get(name)) {
            refs_in(schema, &mut queue);
        }
    }
    seen
}

/// What users name: the request types the calls take, the models they return (page items and
/// unwrapped properties rather than their envelopes, nothing for `{}`), what those reach, and the
/// options types. Error bodies, envelopes and bodies a hand-written type replaces stay private.
fn public_names(spec: &Spec, shapes: &Shapes) -> Result<(Vec<String>, Vec<String>), Error> {
    let pages: BTreeMap<String, Paginated> = paginated(spec)
        .into_iter()
        .map(|p| (p.operation_id.clone(), p))
        .collect();
    let mut roots: Vec<&str> = Vec::new();
    // The enums a hand-written body reaches: its setters take them, its variant structs stay private.
    let mut hand_written_reach: Vec<&str> = Vec::new();
    let mut options = Vec::new();
    for op in spec.operations() {
        let Some(id) = op.id() else { continue };
        let call = Call::read(spec, shapes, op, id, pages.get(id))?;
        let request = spec.request_schema(&op).and_then(schema_ref_name);
        match (&call.body, request) {
            (Body::Model { .. }, Some(name)) => roots.push(name),
            (Body::Args { .. }, Some(name)) => {
                if let Some(schema) = spec.schemas().and_then(|s| s.get(name)) {
                    refs_in(schema, &mut roots);
                }
            }
            (Body::HandWritten { .. }, Some(name)) => hand_written_reach.push(name),
            _ => {}
        }
        let answer = spec.success_schema(&op).and_then(schema_ref_name);
        match (&call.output, answer) {
            (Output::Model(_), Some(name)) => roots.push(name),
            (Output::Page(_), _) => {
                if let Some(page) = pages.get(id) {
                    roots.push(page.item.as_str());
                }
            }
            (Output::Field(..), Some(name)) => {
                let property = call.shape.unwrap.as_deref().unwrap_or_default();
                if let Some(schema) = spec
                    .schemas()
                    .and_then(|s| s.get(name))
                    .and_then(|s| s.pointer(&format!("/properties/{property}")))
                {
                    refs_in(schema, &mut roots);
                }
            }
            _ => {}
        }
        if let (Some(name), true) = (&call.options, call.shape.options != OptionsStyle::None) {
            options.push(name.to_string());
        }
    }
    let hand_written_enums = closure(spec, hand_written_reach.clone())
        .into_iter()
        .filter(|name| shapes.enums.contains(name) && !hand_written_reach.contains(&name.as_str()));
    let types = closure(spec, roots)
        .into_iter()
        .chain(hand_written_enums)
        .filter(|name| {
            let open_enum = spec
                .schemas()
                .and_then(|s| s.get(name.as_str()))
                .is_some_and(|s| s.get("x-open-enum") == Some(&Value::Bool(true)));
            shapes.structs.contains_key(name) || shapes.enums.contains(name) || open_enum
        })
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    Ok((types, options))
}

/// `pub mod public`: the re-exports the crate's `types` module publishes.
pub(crate) fn public_types(spec: &Spec, shapes: &Shapes) -> Result<TokenStream, Error> {
    let (types, options) = public_names(spec, shapes)?;
    let types = types.iter().map(|n| format_ident!("{}", n));
    let options = options.iter().map(|n| format_ident!("{}", n));
    Ok(quote! {
        /// The wire models and query options that users name; error bodies, page envelopes and
        /// bodies that a hand-written type replaces are not here.
        pub mod public {
            pub use super::types::{#(#types),*};
            pub use super::options::{#(#options),*};
        }
    })
}

/// The component schemas that answers reach: their structs are `#[non_exhaustive]`, so that a
/// property the server adds is a compatible change.
pub(crate) fn response_models(spec: &Spec) -> BTreeSet<String> {
    let roots = spec
        .operations()
        .into_iter()
        .filter_map(|op| spec.success_schema(&op).and_then(schema_ref_name))
        .collect();
    closure(spec, roots)
}

// ---------------------------------------------------------------------------------------------
// Server rules

/// The value of a server rule.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RuleValue {
    /// A count of things (`usize` in Rust).
    Count(u64),
    /// An integer quantity (`i64` in Rust).
    Integer(i64),
    /// A flag.
    Flag(bool),
}

/// A server rule the spec states, as a constant for the client and the emulator.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The constant's name, e.g. `REPLAY_WEBHOOK_DELIVERIES_MAX_RUNNING_TASKS`.
    pub name: String,
    /// Its value.
    pub value: RuleValue,
    /// Where the spec states it.
    pub location: String,
}

/// `ReplayDeliveriesByIds` → `REPLAY_DELIVERIES_BY_IDS`, `list_webhook_apps` → `LIST_WEBHOOK_APPS`.
fn screaming(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 && !out.ends_with('_') {
            out.push('_');
        }
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    out
}

/// The server rules of the spec: `x-max-running-tasks` of operations, `x-max-range-hours` of
/// schemas, `minItems` / `maxItems` / `minimum` / `maximum` of schema properties, `default` and
/// `x-clamp: [min, max]` of component parameters. Names follow where the rule sits:
/// `<OPERATION>_MAX_RUNNING_TASKS`, `<SCHEMA>_MAX_RANGE_HOURS`, `<SCHEMA>_<PROPERTY>_MAX_ITEMS`
/// (`_MIN_ITEMS`, `_MINIMUM`, `_MAXIMUM`), `<PARAMETER>_DEFAULT`, `<PARAMETER>_MIN` / `_MAX`. The
/// client's generated `rules` module and the emulator's are this one list.
pub fn rules(spec: &Spec) -> Result<Vec<Rule>, Error> {
    let mut out = Vec::new();
    let count = |value: &Value, location: &str| {
        value
            .as_u64()
            .ok_or_else(|| bad(location, "must be a non-negative integer"))
    };
    let integer = |value: &Value, location: &str| {
        value
            .as_i64()
            .ok_or_else(|| bad(location, "must be an integer"))
    };
    for op in spec.operations() {
        let (Some(id), Some(value)) = (op.id(), op.value.get("x-max-running-tasks")) else {
            continue;
        };
        let location = format!("{}.x-max-running-tasks", op.location());
        out.push(Rule {
            name: format!("{}_MAX_RUNNING_TASKS", screaming(id)),
            value: RuleValue::Count(count(value, &location)?),
            location,
        });
    }
    for (name, schema) in spec.schemas().into_iter().flatten() {
        if let Some(value) = schema.get("x-max-range-hours") {
            let location = format!("components.schemas.{name}.x-max-range-hours");
            out.push(Rule {
                name: format!("{}_MAX_RANGE_HOURS", screaming(name)),
                value: RuleValue::Integer(integer(value, &location)?),
                location,
            });
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (property, prop) in properties.into_iter().flatten() {
            for (keyword, suffix) in [
                ("minItems", "MIN_ITEMS"),
                ("maxItems", "MAX_ITEMS"),
                ("minimum", "MINIMUM"),
                ("maximum", "MAXIMUM"),
            ] {
                let Some(value) = prop.get(keyword) else {
                    continue;
                };
                let location = format!("components.schemas.{name}.properties.{property}.{keyword}");
                let value = if keyword.ends_with("Items") {
                    RuleValue::Count(count(value, &location)?)
                } else {
                    RuleValue::Integer(integer(value, &location)?)
                };
                out.push(Rule {
                    name: format!("{}_{}_{suffix}", screaming(name), screaming(property)),
                    value,
                    location,
                });
            }
        }
    }
    let parameters = spec
        .raw
        .pointer("/components/parameters")
        .and_then(Value::as_object);
    for (name, parameter) in parameters.into_iter().flatten() {
        let Some(schema) = parameter.get("schema") else {
            continue;
        };
        let location = format!("components.parameters.{name}.schema");
        match schema.get("default") {
            Some(Value::Bool(flag)) => out.push(Rule {
                name: format!("{}_DEFAULT", screaming(name)),
                value: RuleValue::Flag(*flag),
                location: format!("{location}.default"),
            }),
            Some(value @ Value::Number(_)) => out.push(Rule {
                name: format!("{}_DEFAULT", screaming(name)),
                value: RuleValue::Integer(integer(value, &format!("{location}.default"))?),
                location: format!("{location}.default"),
            }),
            _ => {}
        }
        if let Some(clamp) = schema.get("x-clamp") {
            let location = format!("{location}.x-clamp");
            let bounds = clamp
                .as_array()
                .filter(|b| b.len() == 2)
                .ok_or_else(|| bad(&location, "must be [min, max]"))?;
            for (suffix, bound) in [("MIN", &bounds[0]), ("MAX", &bounds[1])] {
                out.push(Rule {
                    name: format!("{}_{suffix}", screaming(name)),
                    value: RuleValue::Integer(integer(bound, &location)?),
                    location: location.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// The server rules as the source of a Rust file of constants (`pub const NAME: type = value;`),
/// for a crate that does not include the client (the emulator's build writes it to `OUT_DIR`).
pub fn rules_source(spec: &Spec) -> Result<String, Error> {
    let tokens = rules_tokens(spec)?;
    let file: syn::File = syn::parse2(tokens)
        .map_err(|err| Error::Generate(format!("the rules do not parse as Rust: {err}")))?;
    let constants = file.items.into_iter().find_map(|item| match item {
        syn::Item::Mod(m) => m.content.map(|(_, items)| items),
        _ => None,
    });
    let file = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: constants.unwrap_or_default(),
    };
    crate::codegen::format(quote! { #file })
}

/// `pub mod rules`: one constant per server rule.
pub(crate) fn rules_tokens(spec: &Spec) -> Result<TokenStream, Error> {
    let constants = rules(spec)?.into_iter().map(|rule| {
        let name = format_ident!("{}", rule.name);
        let doc = format!("From the spec: `{}`.", rule.location);
        let (ty, value) = match rule.value {
            RuleValue::Count(n) => {
                let n = proc_macro2::Literal::u64_unsuffixed(n);
                (quote! { usize }, quote! { #n })
            }
            RuleValue::Integer(n) => {
                let n = proc_macro2::Literal::i64_unsuffixed(n);
                (quote! { i64 }, quote! { #n })
            }
            RuleValue::Flag(b) => (quote! { bool }, quote! { #b }),
        };
        quote! { #[doc = #doc] pub const #name: #ty = #value; }
    });
    Ok(quote! {
        /// Server rules the spec states (`x-` extensions, `maxItems`, parameter defaults).
        #[allow(dead_code)]
        pub mod rules {
            #(#constants)*
        }
    })
}
