//! `#[e2e]`: the attribute every end-to-end test of wsgate wears.
//!
//! ```text
//! #[e2e]                                   // current-thread runtime, default hard limit
//! #[e2e(multi_thread, heavy, limit = 300)] // worker threads, one heavy test at a time, 300 s
//! async fn a_test() { ... }
//! ```
//!
//! The function becomes a plain `#[test]` that hands its body to `wsgate_tests::e2e::run`,
//! which builds (or checks) the `wsgate` binary, runs the body on its own runtime thread and
//! fails the test with a message, killing the processes it started, when the limit passes.

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::{ItemFn, LitInt, ReturnType, parse_macro_input};

/// Turns an `async fn` (or plain `fn`) test into a `#[test]` with a hard time limit.
#[proc_macro_attribute]
pub fn e2e(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut multi_thread = false;
    let mut heavy = false;
    let mut limit: Option<LitInt> = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("multi_thread") {
            multi_thread = true;
            Ok(())
        } else if meta.path.is_ident("heavy") {
            heavy = true;
            Ok(())
        } else if meta.path.is_ident("limit") {
            limit = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error("expected `multi_thread`, `heavy` or `limit = SECONDS`"))
        }
    });
    if let Err(e) = parser.parse(args) {
        return e.to_compile_error().into();
    }
    let func = parse_macro_input!(item as ItemFn);
    if let Some(e) = check(&func) {
        return e.to_compile_error().into();
    }
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = func;
    let name = &sig.ident;
    let limit = match limit {
        Some(secs) => quote!(::core::option::Option::Some(#secs)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis fn #name() {
            ::wsgate_tests::e2e::run(
                ::wsgate_tests::e2e::Options {
                    name: ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name)),
                    multi_thread: #multi_thread,
                    heavy: #heavy,
                    limit_secs: #limit,
                },
                async move #block,
            )
        }
    }
    .into()
}

/// The shapes the attribute accepts: no arguments, no return value, no generics.
fn check(func: &ItemFn) -> Option<syn::Error> {
    let sig = &func.sig;
    if !sig.inputs.is_empty() || !sig.generics.params.is_empty() {
        return Some(syn::Error::new_spanned(
            &sig.ident,
            "an #[e2e] test takes no arguments and no generics",
        ));
    }
    if !matches!(sig.output, ReturnType::Default) {
        return Some(syn::Error::new_spanned(
            &sig.output,
            "an #[e2e] test returns nothing: fail it with an assertion",
        ));
    }
    func.attrs
        .iter()
        .find(|a| a.path().segments.iter().any(|s| s.ident == "test"))
        .map(|a| syn::Error::new_spanned(a, "#[e2e] already makes this a test"))
}
