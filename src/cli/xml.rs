//! What the SVG of `chart` and the HTML of `report` share: quick-xml's
//! writer, and the one way text from the ledger enters markup.
//!
//! Everything from the ledger is hostile text: it goes through [`text`]
//! (control and invisible characters shown as escapes, characters XML
//! cannot hold replaced) and then quick-xml, which escapes markup, so no
//! statement can add an element, an attribute or a script to a page.

use std::borrow::Cow;
use std::io;

use quick_xml::events::BytesText;
use quick_xml::Writer;

use super::text as terminal;

/// The writer both documents are written with.
pub type W = Writer<Vec<u8>>;

/// Text from the ledger made safe for XML before quick-xml escapes its
/// markup: control, bidirectional and invisible characters shown as
/// escapes (as in the terminal), and the two non-characters XML 1.0
/// forbids replaced.
pub fn text(s: &str) -> Cow<'_, str> {
    let cleaned = terminal::clean(s);
    if !cleaned.contains(['\u{FFFE}', '\u{FFFF}']) {
        return cleaned;
    }
    Cow::Owned(cleaned.replace(['\u{FFFE}', '\u{FFFF}'], "\u{FFFD}"))
}

/// An element holding `content` as escaped text (never an empty tag: in
/// HTML `<td/>` is not an empty cell).
pub fn el<'a>(
    w: &'a mut W,
    name: &'a str,
    attrs: &[(&str, &str)],
    content: &str,
) -> io::Result<&'a mut W> {
    w.create_element(name)
        .with_attributes(attrs.iter().copied())
        .write_text_content(BytesText::new(&text(content)))
}

/// The document `f` writes, as text.
pub fn document(f: impl FnOnce(&mut W) -> io::Result<()>) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    f(&mut w).expect("writing to memory cannot fail");
    String::from_utf8(w.into_inner()).expect("quick-xml writes the UTF-8 it is given")
}
