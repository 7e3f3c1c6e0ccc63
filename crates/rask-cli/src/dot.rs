//! `rask dot FILE [-o OUT] [--color order|duration --profile-from PROFILE.json]`:
//! a graph file as a Graphviz picture (see [`rask::diagnostics::visualize`]).
//! Without `-o` the DOT text goes to stdout; `-o x.dot` writes it;
//! `-o x.svg`, `x.png` or `x.pdf` runs Graphviz's `dot`, and says how to
//! install Graphviz where it is missing.

use rask::diagnostics::trace;
use rask::diagnostics::visualize::{self, Coloring, DotOptions, PictureFormat};

use crate::commands::{in_file, load};
use crate::{ColorBy, DotArgs, Failure};

pub(crate) fn dot(args: &DotArgs) -> Result<(), Failure> {
    let input = |e: rask::diagnostics::DiagnosticsError| Failure::Input(e.to_string());
    if let Some(out) = &args.output {
        PictureFormat::from_path(out).map_err(input)?;
    }
    let coloring =
        match (args.color, &args.profile_from) {
            (None, None) => Coloring::Plain,
            (Some(ColorBy::Order), None) => Coloring::Order,
            (Some(ColorBy::Duration) | None, Some(profile)) => {
                Coloring::Duration(trace::read_durations(profile).map_err(input)?)
            }
            (Some(ColorBy::Duration), None) => return Err(Failure::Input(
                "--color duration needs --profile-from PROFILE.json (a Chrome trace written by \
                 `rask run --profile PROFILE.json`)"
                    .into(),
            )),
            (Some(ColorBy::Order), Some(_)) => {
                return Err(Failure::Input(
                    "--profile-from goes with --color duration, not --color order".into(),
                ))
            }
        };
    let graph = load(&args.file)?;
    let text =
        visualize::to_dot(&graph, &DotOptions { coloring }).map_err(|e| in_file(&args.file, e))?;
    match &args.output {
        Some(out) => visualize::write(&text, out).map_err(input),
        None => crate::print(text.as_bytes()),
    }
}
