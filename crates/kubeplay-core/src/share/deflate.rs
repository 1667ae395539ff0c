//! Raw deflate with a preset dictionary, on miniz_oxide's low-level API (which has no
//! dictionary call of its own).
//!
//! Compressing: the dictionary goes through the compressor first and is sync-flushed, so the
//! compressor's window holds it and the stream reaches a byte boundary; only what follows is
//! kept. Inflating: the output buffer starts with the dictionary, so back-references reach
//! into it exactly as zlib's `inflateSetDictionary` allows.

use miniz_oxide::deflate::core::{compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus};
use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

/// Best compression, raw deflate (negative window bits: no zlib header), default strategy.
const LEVEL: i32 = 9;
const WINDOW_BITS: i32 = -15;

/// Deflates `data` against `dictionary`.
pub fn deflate(dictionary: &[u8], data: &[u8]) -> Vec<u8> {
    let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(LEVEL, WINDOW_BITS, 0));
    // The dictionary's own output is never sent: the receiver has the dictionary.
    let _primed = run(&mut compressor, dictionary, TDEFLFlush::Sync);
    run(&mut compressor, data, TDEFLFlush::Finish)
}

fn run(compressor: &mut CompressorOxide, mut input: &[u8], flush: TDEFLFlush) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let (status, consumed, written) = compress(compressor, input, &mut buf, flush);
        out.extend_from_slice(&buf[..written]);
        input = &input[consumed.min(input.len())..];
        match status {
            TDEFLStatus::Done => return out,
            // Okay with input left or a full buffer: go on; with neither, the flush is complete.
            TDEFLStatus::Okay if input.is_empty() && written < buf.len() && flush != TDEFLFlush::Finish => return out,
            TDEFLStatus::Okay => {}
            // Only a misuse of the API gets here; an empty result decodes as an error, not a panic.
            TDEFLStatus::BadParam | TDEFLStatus::PutBufFailed => return Vec::new(),
        }
    }
}

/// Why inflating failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateError {
    /// The stream ended before its last block.
    Truncated,
    /// Not a deflate stream (or not one made against this dictionary).
    Corrupt,
    /// It would inflate past `limit` bytes.
    TooLarge,
}

/// Inflates `data` made by [`deflate`] with the same `dictionary`, refusing to produce more
/// than `limit` bytes (a link is untrusted input: no decompression bombs).
pub fn inflate(dictionary: &[u8], data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let max = dictionary.len() + limit;
    let mut out = dictionary.to_vec();
    out.resize((dictionary.len() + data.len().saturating_mul(4)).clamp(dictionary.len() + 64, max), 0);
    let mut pos = dictionary.len();
    let mut input = data;
    let mut decompressor = DecompressorOxide::new();
    loop {
        let (status, consumed, written) = decompress(&mut decompressor, input, &mut out, pos, flags);
        pos += written;
        input = &input[consumed.min(input.len())..];
        match status {
            TINFLStatus::Done => {
                out.truncate(pos);
                return Ok(out.split_off(dictionary.len()));
            }
            TINFLStatus::HasMoreOutput => {
                if out.len() >= max {
                    return Err(InflateError::TooLarge);
                }
                let grown = out.len().saturating_mul(2).min(max);
                out.resize(grown, 0);
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => return Err(InflateError::Truncated),
            _ => return Err(InflateError::Corrupt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_uses_the_dictionary() {
        let dictionary = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
        let data = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n";
        let with = deflate(dictionary, data);
        let without = deflate(b"", data);
        assert!(with.len() < without.len(), "{} vs {}", with.len(), without.len());
        assert_eq!(inflate(dictionary, &with, 1 << 20).as_deref(), Ok(&data[..]));
        assert_eq!(inflate(b"", &without, 1 << 20).as_deref(), Ok(&data[..]));
    }

    #[test]
    fn large_inputs_and_limits() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        let packed = deflate(b"line", &data);
        assert_eq!(inflate(b"line", &packed, data.len()).map(|d| d.len()), Ok(data.len()));
        assert_eq!(inflate(b"line", &packed, data.len() - 1), Err(InflateError::TooLarge));
        assert_eq!(inflate(b"line", &packed[..packed.len() / 2], data.len()), Err(InflateError::Truncated));
        // A bomb: a megabyte of zeros packs into about a kilobyte and is refused past the limit.
        let zeros = deflate(b"", &vec![0u8; 1 << 20]);
        assert!(zeros.len() < 2048);
        assert_eq!(inflate(b"", &zeros, 1 << 16), Err(InflateError::TooLarge));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b""[..], b"\xff\xff\xff\xff", b"hello world", &[0x07; 40]] {
            assert!(inflate(b"dict", bytes, 1024).is_err(), "{bytes:?}");
        }
    }
}
