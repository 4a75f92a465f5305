//! The colours of the four positions, defined once for every picture of the
//! ledger: the terminal's tables and text, and charts and pages drawn as SVG
//! or HTML. A reader who learns "green is support" in one place reads every
//! other place the same way.

use crate::model::Position;

/// One position's colour: an sRGB value for pictures, and the nearest of
/// the eight basic ANSI terminal colours, which every terminal theme maps
/// to something readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colour {
    /// Red, green, blue.
    pub rgb: [u8; 3],
    /// ANSI colour number 0-7 (2 green, 1 red, 3 yellow), or 8-15 for the
    /// bright variants (8 is grey).
    pub ansi: u8,
}

impl Colour {
    /// `#rrggbb`, for SVG and CSS.
    pub fn hex(self) -> String {
        let [r, g, b] = self.rgb;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// The colour of a position: support green, oppose red, neutral grey,
/// mixed yellow.
pub fn position_colour(position: Position) -> Colour {
    match position {
        Position::Support => Colour {
            rgb: [0x2e, 0x7d, 0x32],
            ansi: 2,
        },
        Position::Oppose => Colour {
            rgb: [0xc6, 0x28, 0x28],
            ansi: 1,
        },
        Position::Neutral => Colour {
            rgb: [0x9e, 0x9e, 0x9e],
            ansi: 8,
        },
        Position::Mixed => Colour {
            rgb: [0xf9, 0xa8, 0x25],
            ansi: 3,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_position_has_its_own_colour_in_both_forms() {
        let all = [
            Position::Support,
            Position::Oppose,
            Position::Neutral,
            Position::Mixed,
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(position_colour(*a).rgb, position_colour(*b).rgb);
                assert_ne!(position_colour(*a).ansi, position_colour(*b).ansi);
            }
        }
        assert_eq!(position_colour(Position::Support).hex(), "#2e7d32");
        assert_eq!(position_colour(Position::Oppose).ansi, 1);
    }
}
