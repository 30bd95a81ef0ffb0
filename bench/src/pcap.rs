//! Classic libpcap files (the format `net_pcap` reads and writes), Ethernet only.
//!
//! Reading accepts both byte orders and both microsecond (`0xa1b2c3d4`) and
//! nanosecond (`0xa1b23c4d`) magics: DPDK's `net_pcap` writes nanosecond files.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

const MAGIC_US: u32 = 0xa1b2_c3d4;
const MAGIC_NS: u32 = 0xa1b2_3c4d;
const LINKTYPE_ETHERNET: u32 = 1;
const SNAPLEN: u32 = 65535;

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Timestamp in nanoseconds since the epoch.
    pub ts_ns: u64,
    /// Length on the wire (may exceed `data.len()` when the capture was truncated).
    pub orig_len: u32,
    pub data: Vec<u8>,
}

#[derive(Debug)]
pub enum PcapError {
    Io(io::Error),
    Format(String),
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcapError::Io(e) => write!(f, "{e}"),
            PcapError::Format(m) => write!(f, "not a valid pcap file: {m}"),
        }
    }
}

impl std::error::Error for PcapError {}

impl From<io::Error> for PcapError {
    fn from(e: io::Error) -> Self {
        PcapError::Io(e)
    }
}

/// Writes frames as a microsecond-precision libpcap file.
pub fn write_file(path: &Path, frames: &[Vec<u8>]) -> io::Result<()> {
    let mut out = io::BufWriter::new(fs::File::create(path)?);
    write_to(&mut out, frames)?;
    out.flush()
}

/// Writes frames (timestamps 1 µs apart from a fixed epoch, so output is reproducible).
pub fn write_to<W: Write>(out: &mut W, frames: &[Vec<u8>]) -> io::Result<()> {
    out.write_all(&MAGIC_US.to_le_bytes())?;
    out.write_all(&2u16.to_le_bytes())?;
    out.write_all(&4u16.to_le_bytes())?;
    out.write_all(&0i32.to_le_bytes())?; // thiszone
    out.write_all(&0u32.to_le_bytes())?; // sigfigs
    out.write_all(&SNAPLEN.to_le_bytes())?;
    out.write_all(&LINKTYPE_ETHERNET.to_le_bytes())?;
    // 2026-01-01T00:00:00Z: a fixed epoch keeps generated files byte-identical.
    let base_s: u32 = 1_767_225_600;
    for (i, f) in frames.iter().enumerate() {
        let len = u32::try_from(f.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too long"))?;
        out.write_all(&(base_s + (i / 1_000_000) as u32).to_le_bytes())?;
        out.write_all(&((i % 1_000_000) as u32).to_le_bytes())?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(f)?;
    }
    Ok(())
}

/// Reads every record of a pcap file.
pub fn read_file(path: &Path) -> Result<Vec<Record>, PcapError> {
    parse(&fs::read(path)?)
}

/// Parses a whole pcap file held in memory.
pub fn parse(bytes: &[u8]) -> Result<Vec<Record>, PcapError> {
    if bytes.len() < 24 {
        return Err(PcapError::Format(format!(
            "{} bytes, shorter than the 24-byte file header",
            bytes.len()
        )));
    }
    let raw = u32::from_le_bytes(bytes[0..4].try_into().unwrap());
    let (big_endian, nanos) = match raw {
        MAGIC_US => (false, false),
        MAGIC_NS => (false, true),
        m if m.swap_bytes() == MAGIC_US => (true, false),
        m if m.swap_bytes() == MAGIC_NS => (true, true),
        m => return Err(PcapError::Format(format!("bad magic {m:#010x}"))),
    };
    let rd = |b: &[u8]| {
        let a: [u8; 4] = b.try_into().unwrap();
        if big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    };
    let linktype = rd(&bytes[20..24]);
    if linktype != LINKTYPE_ETHERNET {
        return Err(PcapError::Format(format!(
            "link type {linktype}, only Ethernet (1) is supported"
        )));
    }
    let mut records = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let hdr = bytes
            .get(at..at + 16)
            .ok_or_else(|| PcapError::Format(format!("truncated record header at offset {at}")))?;
        let (sec, frac, incl, orig) = (
            rd(&hdr[0..4]),
            rd(&hdr[4..8]),
            rd(&hdr[8..12]),
            rd(&hdr[12..16]),
        );
        let start = at + 16;
        let end = start + incl as usize;
        let data = bytes.get(start..end).ok_or_else(|| {
            PcapError::Format(format!(
                "record at offset {at} claims {incl} bytes, the file ends first"
            ))
        })?;
        let ts_ns = u64::from(sec) * 1_000_000_000
            + if nanos {
                u64::from(frac)
            } else {
                u64::from(frac) * 1000
            };
        records.push(Record {
            ts_ns,
            orig_len: orig,
            data: data.to_vec(),
        });
        at = end;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_frames_read_back_identical_and_in_order() {
        let frames: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; 60 + i as usize]).collect();
        let mut buf = Vec::new();
        write_to(&mut buf, &frames).unwrap();
        let back = parse(&buf).unwrap();
        assert_eq!(back.len(), 50);
        for (r, f) in back.iter().zip(&frames) {
            assert_eq!(&r.data, f);
            assert_eq!(r.orig_len as usize, f.len());
        }
        assert!(back.windows(2).all(|w| w[0].ts_ns < w[1].ts_ns));
    }

    #[test]
    fn nanosecond_big_endian_files_are_read() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&MAGIC_NS.to_be_bytes());
        buf.extend_from_slice(&2u16.to_be_bytes());
        buf.extend_from_slice(&4u16.to_be_bytes());
        buf.extend_from_slice(&[0; 8]);
        buf.extend_from_slice(&SNAPLEN.to_be_bytes());
        buf.extend_from_slice(&1u32.to_be_bytes());
        for v in [5u32, 7, 3, 3] {
            buf.extend_from_slice(&v.to_be_bytes());
        }
        buf.extend_from_slice(&[1, 2, 3]);
        let r = parse(&buf).unwrap();
        assert_eq!(
            r,
            vec![Record {
                ts_ns: 5_000_000_007,
                orig_len: 3,
                data: vec![1, 2, 3]
            }]
        );
    }

    #[test]
    fn truncated_and_foreign_files_are_errors_not_panics() {
        assert!(parse(&[0; 10]).is_err());
        let mut buf = Vec::new();
        write_to(&mut buf, &[vec![0; 100]]).unwrap();
        let err = parse(&buf[..buf.len() - 1]).unwrap_err().to_string();
        assert!(err.contains("the file ends first"), "{err}");
        buf[0] = 0;
        assert!(parse(&buf).unwrap_err().to_string().contains("bad magic"));
    }
}
