//! Which actor codes a new statement may use: ISO 3166-1 alpha-3 codes
//! (from the `rust_iso3166` crate, names included), the built-in table
//! below of organisations and widely used non-ISO codes, and codes the
//! ledger defines (`actor_definition`). Anything else is refused with a
//! hint, never guessed at: FIPS and COW codes collide with ISO ones, so an
//! alpha-2 code is named for what it is and the alpha-3 code suggested.
//!
//! This is a rule of new commands only. Statements recorded before it
//! existed keep whatever syntactically valid code they have: they decode,
//! verify and answer as before (`actors` lists such a code with kind
//! `unlisted`), and a new statement with that code needs `actor define`.

use crate::model::{Actor, ActorKind};

/// Organisations and codes outside ISO 3166-1 in wide use: code, name,
/// kind. Documented in docs/DOMAIN.md.
pub const BUILT_IN: &[(&str, &str, ActorKind)] = &[
    ("AU", "African Union", ActorKind::Organisation),
    (
        "APEC",
        "Asia-Pacific Economic Cooperation",
        ActorKind::Organisation,
    ),
    (
        "ASEAN",
        "Association of Southeast Asian Nations",
        ActorKind::Organisation,
    ),
    ("BRICS", "BRICS", ActorKind::Organisation),
    (
        "CIS",
        "Commonwealth of Independent States",
        ActorKind::Organisation,
    ),
    ("EU", "European Union", ActorKind::Organisation),
    ("G7", "Group of Seven", ActorKind::Organisation),
    ("G20", "Group of Twenty", ActorKind::Organisation),
    ("GCC", "Gulf Cooperation Council", ActorKind::Organisation),
    (
        "IAEA",
        "International Atomic Energy Agency",
        ActorKind::Organisation,
    ),
    (
        "NATO",
        "North Atlantic Treaty Organization",
        ActorKind::Organisation,
    ),
    (
        "OAS",
        "Organization of American States",
        ActorKind::Organisation,
    ),
    (
        "OIC",
        "Organisation of Islamic Cooperation",
        ActorKind::Organisation,
    ),
    (
        "OPEC",
        "Organization of the Petroleum Exporting Countries",
        ActorKind::Organisation,
    ),
    (
        "OSCE",
        "Organization for Security and Co-operation in Europe",
        ActorKind::Organisation,
    ),
    (
        "SCO",
        "Shanghai Cooperation Organisation",
        ActorKind::Organisation,
    ),
    ("UN", "United Nations", ActorKind::Organisation),
    (
        "UNSC",
        "United Nations Security Council",
        ActorKind::Organisation,
    ),
    ("WTO", "World Trade Organization", ActorKind::Organisation),
    ("XKX", "Kosovo", ActorKind::State),
];

/// Where a code comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Known {
    /// ISO 3166-1 alpha-3, with its English short name.
    Iso(&'static str),
    /// The built-in table.
    BuiltIn(&'static str, ActorKind),
}

/// The name and kind of a code from ISO 3166-1 or the built-in table.
pub fn known(code: &Actor) -> Option<Known> {
    let c = code.as_str();
    if c.len() == 3 {
        if let Some(iso) = rust_iso3166::from_alpha3(c) {
            return Some(Known::Iso(iso.name));
        }
    }
    BUILT_IN
        .iter()
        .find(|(k, _, _)| *k == c)
        .map(|(_, n, kind)| Known::BuiltIn(n, *kind))
}

/// Every ISO 3166-1 alpha-3 code, in the crate's order (for generators
/// of test data that need many valid codes).
pub fn iso_codes() -> &'static [&'static str] {
    rust_iso3166::ALL_ALPHA3
}

/// Why a code is not accepted for a new statement, with what to do: one line.
pub fn hint(code: &str) -> String {
    let upper = code.to_ascii_uppercase();
    if upper == "UK" {
        return format!(
            "{code} is not an ISO 3166-1 code: the United Kingdom is GBR (United Kingdom of Great Britain and Northern Ireland)"
        );
    }
    if upper.len() == 2 {
        if let Some(iso) = rust_iso3166::from_alpha2(&upper) {
            return format!(
                "{code} is an ISO 3166-1 alpha-2 code: use the alpha-3 code {} ({})",
                iso.alpha3, iso.name
            );
        }
    }
    if upper != code && (upper.len() == 3 && rust_iso3166::from_alpha3(&upper).is_some()) {
        let iso = rust_iso3166::from_alpha3(&upper).expect("just checked");
        return format!("actor codes are upper case: use {upper} ({})", iso.name);
    }
    format!(
        "unknown actor {code}: not an ISO 3166-1 alpha-3 code or a built-in one (stancelog actors lists them); to use it, define it first with `stancelog actor define {code} --name NAME`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(s: &str) -> Actor {
        s.parse().unwrap()
    }

    #[test]
    fn iso_and_built_in_codes_are_known_with_names() {
        assert_eq!(known(&actor("JPN")), Some(Known::Iso("Japan")));
        assert!(matches!(
            known(&actor("EU")),
            Some(Known::BuiltIn("European Union", _))
        ));
        assert!(matches!(
            known(&actor("XKX")),
            Some(Known::BuiltIn("Kosovo", ActorKind::State))
        ));
        for c in ["UN", "NATO", "ASEAN", "AU", "G7", "G20", "OPEC"] {
            assert!(known(&actor(c)).is_some(), "{c}");
        }
        assert_eq!(known(&actor("JP")), None);
        assert_eq!(known(&actor("ZZZ")), None);
    }

    #[test]
    fn hints_name_the_alpha_3_code_and_never_guess_others() {
        assert!(hint("JP").contains("alpha-2") && hint("JP").contains("JPN (Japan)"));
        assert!(hint("UK").contains("GBR"));
        assert!(hint("ZZZ").contains("stancelog actor define ZZZ"));
        assert!(hint("jpn").contains("JPN"));
    }

    #[test]
    fn the_built_in_table_never_shadows_an_iso_code() {
        for (code, _, _) in BUILT_IN {
            assert!(
                code.len() != 3 || rust_iso3166::from_alpha3(code).is_none(),
                "{code}"
            );
        }
    }
}
