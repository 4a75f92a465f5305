//! The colours of the four positions, defined once for every output that
//! colours them (the SVG chart, the HTML report and the terminal), so that
//! support is the same green in a slide, a browser and a shell.
//!
//! The hues follow Okabe and Ito's palette for colour-blind readers (a
//! bluish green and a vermilion rather than pure green and red), and every
//! picture also tells positions apart by text (labels, legends, tooltips),
//! never by colour alone.

use stancelog::Position;

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, as SVG, CSS and HTML write it.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// How a position is coloured: an exact colour for pictures, and the
/// nearest of the 16 terminal colours (its SGR foreground code: 32 green,
/// 31 red, 90 bright black, 33 yellow) for a terminal that has no more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Swatch {
    /// The colour of charts and reports.
    pub rgb: Rgb,
    /// The SGR foreground code of the nearest basic terminal colour.
    pub ansi: u8,
}

/// Support green, oppose red, neutral grey, mixed yellow.
pub fn swatch(p: Position) -> Swatch {
    match p {
        Position::Support => Swatch {
            rgb: Rgb(0x00, 0x9e, 0x73),
            ansi: 32,
        },
        Position::Oppose => Swatch {
            rgb: Rgb(0xd5, 0x5e, 0x00),
            ansi: 31,
        },
        Position::Neutral => Swatch {
            rgb: Rgb(0x8c, 0x8c, 0x8c),
            ansi: 90,
        },
        Position::Mixed => Swatch {
            rgb: Rgb(0xe6, 0xb4, 0x00),
            ansi: 33,
        },
    }
}

/// The four positions in the order legends list them.
pub const POSITIONS: [Position; 4] = [
    Position::Support,
    Position::Oppose,
    Position::Neutral,
    Position::Mixed,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_position_has_its_own_colour_in_both_forms() {
        let mut hexes: Vec<String> = POSITIONS.iter().map(|p| swatch(*p).rgb.hex()).collect();
        let mut codes: Vec<u8> = POSITIONS.iter().map(|p| swatch(*p).ansi).collect();
        hexes.sort();
        hexes.dedup();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!((hexes.len(), codes.len()), (4, 4));
        assert_eq!(swatch(Position::Support).rgb.hex(), "#009e73");
    }
}
