//! What a button press did, as the transitions tell the handler.

use crate::i18n::Html;

pub enum Pressed {
    /// The dialogue moved on (or stayed): show its screen, with the note above it.
    Done(Option<Html>),
    /// Nothing to redraw: a short answer on the button (none when empty: the page counter
    /// is only a label).
    Toast(String),
    /// The press does not fit the screen.
    Stale,
}
