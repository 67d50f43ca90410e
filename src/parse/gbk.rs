//! GB18030 decoded a line at a time where it is plain: ASCII runs copied, two-byte GBK
//! characters looked up in a table of their UTF-8. The table is built from
//! `encoding_rs`, which decodes everything else (four-byte sequences, the single byte
//! 0x80, malformed bytes): the text is the same as `encoding_rs` alone gives, at a
//! fraction of the instructions on tables of mostly ASCII cells and short Chinese ones.

use std::sync::OnceLock;

use encoding_rs::{DecoderResult, GB18030};

/// For each two bytes read as a big-endian index, the character they are in GBK: its
/// UTF-8 in the low three bytes and its length in the high one; 0 where they are not
/// one character (ASCII, a four-byte sequence starts, or malformed). Indexed by both
/// bytes whole, so that the loop that reads it tests nothing else.
fn pairs() -> &'static [u32; 1 << 16] {
    static PAIRS: OnceLock<Box<[u32; 1 << 16]>> = OnceLock::new();
    PAIRS.get_or_init(|| {
        let mut table = Box::new([0u32; 1 << 16]);
        let mut utf8 = [0u8; 8];
        for lead in 0x81u8..=0xFE {
            for trail in 0x40u8..=0xFE {
                let mut decoder = GB18030.new_decoder_without_bom_handling();
                let (result, read, wrote) =
                    decoder.decode_to_utf8_without_replacement(&[lead, trail], &mut utf8, true);
                if matches!(result, DecoderResult::InputEmpty) && read == 2 && wrote <= 3 {
                    let [a, b, c, ..] = utf8;
                    table[usize::from(u16::from_be_bytes([lead, trail]))] =
                        u32::from_le_bytes([a, b, c, wrote as u8]);
                }
            }
        }
        table
    })
}

/// Decodes `block`, whole lines of GB18030 (a line break is never part of a character)
/// that end in a line break unless `last` (`block` ends the bytes), with `decoder`,
/// which is between characters, into `out` from its start, `out` grown if it is too
/// short: the length decoded, `None` for a malformed sequence.
pub fn decode_lines(
    decoder: &mut encoding_rs::Decoder,
    block: &[u8],
    out: &mut Vec<u8>,
    last: bool,
) -> Option<usize> {
    debug_assert!(last || block.last() == Some(&b'\n'));
    let pairs = pairs();
    let (mut at, mut len) = (0, 0);
    make_room(out, len, block.len());
    while at < block.len() {
        let ascii = encoding_rs::Encoding::ascii_valid_up_to(&block[at..]);
        out[len..len + ascii].copy_from_slice(&block[at..at + ascii]);
        (at, len) = (at + ascii, len + ascii);
        while let [lead, trail, ..] = block[at..] {
            let entry = pairs[usize::from(u16::from_be_bytes([lead, trail]))];
            if entry == 0 {
                break;
            }
            out[len..len + 4].copy_from_slice(&entry.to_le_bytes());
            (at, len) = (at + 2, len + (entry >> 24) as usize);
        }
        if at == block.len() || block[at] < 0x80 {
            continue;
        }
        // Not plain: `encoding_rs` decodes to the end of the line, after which the
        // decoder is between characters again.
        let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |i| at + i + 1);
        len += decode_with(
            decoder,
            &block[at..end],
            out,
            len,
            last && end == block.len(),
        )?;
        at = end;
        make_room(out, len, block.len() - at);
    }
    Some(len)
}

/// Grows `out`, decoded up to `len`, for `rest` bytes more decoded here: ASCII stays one
/// byte and a pair becomes at most three, plus the four bytes each pair's entry writes.
fn make_room(out: &mut Vec<u8>, len: usize, rest: usize) {
    let room = len + rest * 3 / 2 + 4;
    if out.len() < room {
        out.resize(room, 0);
    }
}

/// Decodes `bytes` into `out` from `from` with `decoder` alone, `out` grown if it is
/// too short: the length decoded, `None` for a malformed sequence.
pub fn decode_with(
    decoder: &mut encoding_rs::Decoder,
    bytes: &[u8],
    out: &mut Vec<u8>,
    from: usize,
    last: bool,
) -> Option<usize> {
    let (mut rest, mut len) = (bytes, from);
    loop {
        let (result, read, wrote) =
            decoder.decode_to_utf8_without_replacement(rest, &mut out[len..], last);
        len += wrote;
        rest = &rest[read..];
        match result {
            DecoderResult::InputEmpty => return Some(len - from),
            DecoderResult::OutputFull => out.resize(out.len() * 2 + 8, 0),
            DecoderResult::Malformed(..) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `encoding_rs` alone makes of `bytes`.
    fn alone(bytes: &[u8]) -> Option<Vec<u8>> {
        let mut decoder = GB18030.new_decoder_without_bom_handling();
        let mut out = vec![0u8; 16];
        let len = decode_with(&mut decoder, bytes, &mut out, 0, true)?;
        out.truncate(len);
        Some(out)
    }

    fn by_lines(bytes: &[u8]) -> Option<Vec<u8>> {
        let mut decoder = GB18030.new_decoder_without_bom_handling();
        let mut out = Vec::new();
        let len = decode_lines(&mut decoder, bytes, &mut out, true)?;
        out.truncate(len);
        Some(out)
    }

    #[test]
    fn every_pair_decodes_as_encoding_rs_decodes_it() {
        for lead in 0x80u8..=0xFF {
            for trail in 0u8..=0xFF {
                let line = [b'a', lead, trail, b',', lead, trail, b'\n'];
                assert_eq!(by_lines(&line), alone(&line), "{lead:#x} {trail:#x}");
            }
        }
    }

    #[test]
    fn mixed_lines_decode_as_encoding_rs_decodes_them() {
        // Plain cells, pairs, four-byte sequences, 0x80, malformed and cut-off bytes,
        // with and without line breaks, drawn by a fixed generator.
        let pieces: [&[u8]; 14] = [
            b"2024-06-03,",
            b"T000",
            "湖北省某市".as_bytes(),
            b"\xBA\xFE\xB1\xB1\xCA\xA1",
            b"\xA1\xA4",
            b"\x81\x30\x81\x30",
            b"\x84\x31\x95\x33",
            b"\x80",
            b"\xFF",
            b"\x81",
            b"\x81\x7F",
            b"\x81\x30",
            b"\n",
            b"\r\n",
        ];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            let mut bytes = Vec::new();
            for _ in 0..(state % 12) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let piece = pieces[(state >> 32) as usize % pieces.len()];
                // Mostly plain pieces, as tables are.
                let piece = if state % 5 < 2 && piece.len() > 1 && piece[0] >= 0x80 {
                    &b"\xBA\xFE\xB1\xB1"[..]
                } else {
                    piece
                };
                bytes.extend_from_slice(piece);
            }
            state = state.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
            let whole = alone(&bytes);
            assert_eq!(by_lines(&bytes), whole, "{bytes:x?}");
            // In two blocks, the first cut after a line break, with one decoder.
            if let Some(cut) = bytes.iter().position(|&b| b == b'\n') {
                let mut decoder = GB18030.new_decoder_without_bom_handling();
                let (mut first, mut second) = (Vec::new(), Vec::new());
                let halves = decode_lines(&mut decoder, &bytes[..=cut], &mut first, false)
                    .zip(decode_lines(
                        &mut decoder,
                        &bytes[cut + 1..],
                        &mut second,
                        true,
                    ))
                    .map(|(a, b)| [&first[..a], &second[..b]].concat());
                assert_eq!(halves, whole, "{bytes:x?} cut at {cut}");
            }
        }
    }
}
