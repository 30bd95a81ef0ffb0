//! The real maps agree with the linear-scan reference on random tables and addresses.

use lpm::{reference, Lpm4, Lpm6};
use proptest::prelude::*;
use std::collections::HashSet;

fn mask4(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}
fn mask6(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

/// Random IPv4 tables: prefixes cluster in a few /8s so they nest often; lengths cover
/// 0 and 32. Host bits are cleared and duplicates removed (first kept).
fn table4() -> impl Strategy<Value = Vec<(u32, u8, u16)>> {
    prop::collection::vec(
        (
            prop_oneof![Just(0xC000_0200u32), Just(0xC633_6400), any::<u32>()],
            any::<u32>(),
            prop_oneof![Just(0u8), Just(32u8), 0u8..=32],
        ),
        0..200,
    )
    .prop_map(|raw| {
        let mut seen = HashSet::new();
        raw.into_iter()
            .enumerate()
            .filter_map(|(i, (base, noise, len))| {
                let addr = (base ^ (noise & 0x0000_FFFF)) & mask4(len);
                seen.insert((addr, len)).then_some((addr, len, i as u16))
            })
            .collect()
    })
}

fn table6() -> impl Strategy<Value = Vec<(u128, u8, u16)>> {
    let doc: u128 = 0x2001_0db8 << 96;
    prop::collection::vec(
        (
            prop_oneof![Just(doc), Just(doc | (0x100u128 << 80)), any::<u128>()],
            any::<u64>(),
            prop_oneof![Just(0u8), Just(128u8), 0u8..=128],
        ),
        0..200,
    )
    .prop_map(|raw| {
        let mut seen = HashSet::new();
        raw.into_iter()
            .enumerate()
            .filter_map(|(i, (base, noise, len))| {
                let addr = (base ^ (u128::from(noise) << 40) ^ u128::from(noise)) & mask6(len);
                seen.insert((addr, len)).then_some((addr, len, i as u16))
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lpm4_agrees_with_reference(table in table4(), probes in prop::collection::vec(any::<u32>(), 1..64)) {
        let lpm = Lpm4::build(&table).unwrap();
        // Probe random addresses and, for each entry, its first and last address.
        let mut addrs = probes;
        for &(net, len, _) in &table {
            addrs.push(net);
            addrs.push(net | !mask4(len));
        }
        let mut bulk = vec![None; addrs.len()];
        lpm.lookup_bulk(&addrs, &mut bulk);
        for (i, &a) in addrs.iter().enumerate() {
            let want = reference::lookup4(&table, a);
            prop_assert_eq!(lpm.lookup(a), want, "addr {:#010x}", a);
            prop_assert_eq!(bulk[i], want);
        }
        prop_assert_eq!(lpm.len(), table.len());
    }

    #[test]
    fn lpm6_agrees_with_reference(table in table6(), probes in prop::collection::vec(any::<u128>(), 1..64)) {
        let lpm = Lpm6::build(&table).unwrap();
        let mut addrs = probes;
        for &(net, len, _) in &table {
            addrs.push(net);
            addrs.push(net | !mask6(len));
        }
        for &a in &addrs {
            prop_assert_eq!(lpm.lookup(a), reference::lookup6(&table, a), "addr {:#034x}", a);
        }
    }

    #[test]
    fn any_duplicate_is_reported(table in table4().prop_filter("non-empty", |t| !t.is_empty()), pick in any::<prop::sample::Index>()) {
        let mut with_dup = table.clone();
        let (a, l, _) = table[pick.index(table.len())];
        with_dup.push((a, l, 9999));
        let is_dup = matches!(Lpm4::build(&with_dup), Err(lpm::LpmError::Duplicate { index, .. }) if index == table.len());
        prop_assert!(is_dup);
    }
}
