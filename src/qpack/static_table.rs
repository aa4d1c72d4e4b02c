//! The QPACK static table (RFC 9204 Appendix A): 99 fixed entries, plus the lookups the
//! encoder needs (exact name + value, and name only), built at compile time.

use super::hash::{bytes_eq, short_key};

/// The 99 entries, index 0 first.
pub const ENTRIES: [(&[u8], &[u8]); 99] = [
    (b":authority", b""),
    (b":path", b"/"),
    (b"age", b"0"),
    (b"content-disposition", b""),
    (b"content-length", b"0"),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"referer", b""),
    (b"set-cookie", b""),
    (b":method", b"CONNECT"),
    (b":method", b"DELETE"),
    (b":method", b"GET"),
    (b":method", b"HEAD"),
    (b":method", b"OPTIONS"),
    (b":method", b"POST"),
    (b":method", b"PUT"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"103"),
    (b":status", b"200"),
    (b":status", b"304"),
    (b":status", b"404"),
    (b":status", b"503"),
    (b"accept", b"*/*"),
    (b"accept", b"application/dns-message"),
    (b"accept-encoding", b"gzip, deflate, br"),
    (b"accept-ranges", b"bytes"),
    (b"access-control-allow-headers", b"cache-control"),
    (b"access-control-allow-headers", b"content-type"),
    (b"access-control-allow-origin", b"*"),
    (b"cache-control", b"max-age=0"),
    (b"cache-control", b"max-age=2592000"),
    (b"cache-control", b"max-age=604800"),
    (b"cache-control", b"no-cache"),
    (b"cache-control", b"no-store"),
    (b"cache-control", b"public, max-age=31536000"),
    (b"content-encoding", b"br"),
    (b"content-encoding", b"gzip"),
    (b"content-type", b"application/dns-message"),
    (b"content-type", b"application/javascript"),
    (b"content-type", b"application/json"),
    (b"content-type", b"application/x-www-form-urlencoded"),
    (b"content-type", b"image/gif"),
    (b"content-type", b"image/jpeg"),
    (b"content-type", b"image/png"),
    (b"content-type", b"text/css"),
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-type", b"text/plain"),
    (b"content-type", b"text/plain;charset=utf-8"),
    (b"range", b"bytes=0-"),
    (b"strict-transport-security", b"max-age=31536000"),
    (
        b"strict-transport-security",
        b"max-age=31536000; includesubdomains",
    ),
    (
        b"strict-transport-security",
        b"max-age=31536000; includesubdomains; preload",
    ),
    (b"vary", b"accept-encoding"),
    (b"vary", b"origin"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-xss-protection", b"1; mode=block"),
    (b":status", b"100"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"302"),
    (b":status", b"400"),
    (b":status", b"403"),
    (b":status", b"421"),
    (b":status", b"425"),
    (b":status", b"500"),
    (b"accept-language", b""),
    (b"access-control-allow-credentials", b"FALSE"),
    (b"access-control-allow-credentials", b"TRUE"),
    (b"access-control-allow-headers", b"*"),
    (b"access-control-allow-methods", b"get"),
    (b"access-control-allow-methods", b"get, post, options"),
    (b"access-control-allow-methods", b"options"),
    (b"access-control-expose-headers", b"content-length"),
    (b"access-control-request-headers", b"content-type"),
    (b"access-control-request-method", b"get"),
    (b"access-control-request-method", b"post"),
    (b"alt-svc", b"clear"),
    (b"authorization", b""),
    (
        b"content-security-policy",
        b"script-src 'none'; object-src 'none'; base-uri 'none'",
    ),
    (b"early-data", b"1"),
    (b"expect-ct", b""),
    (b"forwarded", b""),
    (b"if-range", b""),
    (b"origin", b""),
    (b"purpose", b"prefetch"),
    (b"server", b""),
    (b"timing-allow-origin", b"*"),
    (b"upgrade-insecure-requests", b"1"),
    (b"user-agent", b""),
    (b"x-forwarded-for", b""),
    (b"x-frame-options", b"deny"),
    (b"x-frame-options", b"sameorigin"),
];

/// The entry at `index`, if there is one.
pub fn get(index: u64) -> Option<(&'static [u8], &'static [u8])> {
    ENTRIES.get(usize::try_from(index).ok()?).copied()
}

/// Slots of the name index: a power of two above twice the number of distinct names, so
/// probe runs stay short.
const INDEX_SLOTS: usize = 256;

/// An empty slot of the name index.
const EMPTY: u8 = u8::MAX;

/// The name's slot in the name index (see [`short_key`]); usable at compile time.
const fn name_slot(name: &[u8]) -> usize {
    (short_key(name) >> 56) as usize % INDEX_SLOTS
}

const fn same_name(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Name -> index of its first entry, as an open-addressing hash table built at compile
/// time: no allocation, nothing to initialise at run time, nothing for a leak checker to
/// report. [`NEXT_WITH_NAME`] leads from there to the name's other entries.
static BY_NAME: [u8; INDEX_SLOTS] = {
    let mut slots = [EMPTY; INDEX_SLOTS];
    let mut i = 0;
    while i < ENTRIES.len() {
        let name = ENTRIES[i].0;
        let mut slot = name_slot(name);
        loop {
            let at = slots[slot];
            if at == EMPTY {
                slots[slot] = i as u8;
                break;
            }
            if same_name(ENTRIES[at as usize].0, name) {
                break; // the name's first entry is already there
            }
            slot = (slot + 1) % INDEX_SLOTS;
        }
        i += 1;
    }
    slots
};

/// Entry index -> the index of the next entry with the same name ([`EMPTY`] after the
/// last): `:status`, for one, has entries 24-28 and 63-71.
static NEXT_WITH_NAME: [u8; ENTRIES.len()] = {
    let mut next = [EMPTY; ENTRIES.len()];
    let mut i = 0;
    while i < ENTRIES.len() {
        let mut j = i + 1;
        while j < ENTRIES.len() {
            if same_name(ENTRIES[i].0, ENTRIES[j].0) {
                next[i] = j as u8;
                break;
            }
            j += 1;
        }
        i += 1;
    }
    next
};

/// The index of the first entry named `name`.
fn first_with_name(name: &[u8]) -> Option<usize> {
    let mut slot = name_slot(name);
    loop {
        let at = BY_NAME[slot];
        if at == EMPTY {
            return None;
        }
        if bytes_eq(ENTRIES[at as usize].0, name) {
            return Some(at as usize);
        }
        slot = (slot + 1) % INDEX_SLOTS;
    }
}

/// The result of a static table lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// Name and value match the entry at this index.
    Exact(u64),
    /// Only the name matches (the first entry with that name).
    Name(u64),
}

/// Finds `name: value` in the static table, preferring an exact match.
pub fn find(name: &[u8], value: &[u8]) -> Option<Match> {
    let first = first_with_name(name)?;
    let mut i = first;
    loop {
        if bytes_eq(ENTRIES[i].1, value) {
            return Some(Match::Exact(i as u64));
        }
        match NEXT_WITH_NAME[i] {
            EMPTY => return Some(Match::Name(first as u64)),
            next => i = usize::from(next),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spot_checks_against_rfc9204_appendix_a() {
        assert_eq!(ENTRIES.len(), 99);
        assert_eq!(get(0), Some((&b":authority"[..], &b""[..])));
        assert_eq!(get(17), Some((&b":method"[..], &b"GET"[..])));
        assert_eq!(get(25), Some((&b":status"[..], &b"200"[..])));
        assert_eq!(
            get(31),
            Some((&b"accept-encoding"[..], &b"gzip, deflate, br"[..]))
        );
        assert_eq!(
            get(62),
            Some((&b"x-xss-protection"[..], &b"1; mode=block"[..]))
        );
        assert_eq!(get(71), Some((&b":status"[..], &b"500"[..])));
        assert_eq!(get(95), Some((&b"user-agent"[..], &b""[..])));
        assert_eq!(get(98), Some((&b"x-frame-options"[..], &b"sameorigin"[..])));
        assert_eq!(get(99), None);
        assert_eq!(get(u64::MAX), None);
    }

    #[test]
    fn every_name_leads_to_all_its_entries() {
        for (name, _) in ENTRIES {
            let expected: Vec<usize> = (0..ENTRIES.len())
                .filter(|&i| ENTRIES[i].0 == name)
                .collect();
            let mut chain = vec![first_with_name(name).unwrap()];
            while let Some(&next) = NEXT_WITH_NAME.get(*chain.last().unwrap()) {
                if next == EMPTY {
                    break;
                }
                chain.push(usize::from(next));
            }
            assert_eq!(chain, expected, "{}", String::from_utf8_lossy(name));
        }
        assert_eq!(first_with_name(b":statu"), None);
        // The name index's probe runs stay short, for names in it and names not.
        let probes = |name: &[u8]| {
            let mut slot = name_slot(name);
            let mut count = 1;
            while BY_NAME[slot] != EMPTY && ENTRIES[usize::from(BY_NAME[slot])].0 != name {
                slot = (slot + 1) % INDEX_SLOTS;
                count += 1;
            }
            count
        };
        for (name, _) in ENTRIES {
            assert!(probes(name) <= 3, "{}", String::from_utf8_lossy(name));
        }
        for name in [
            &b"x-custom"[..],
            b"x-forwarded-for",
            b"accept-charset",
            b"priority",
        ] {
            assert!(probes(name) <= 3, "{}", String::from_utf8_lossy(name));
        }
        assert_eq!(first_with_name(b""), None);
    }

    #[test]
    fn lookups_prefer_exact_matches() {
        assert_eq!(find(b":method", b"GET"), Some(Match::Exact(17)));
        assert_eq!(find(b":method", b"PATCH"), Some(Match::Name(15)));
        assert_eq!(find(b":status", b"500"), Some(Match::Exact(71)));
        assert_eq!(find(b":authority", b""), Some(Match::Exact(0)));
        assert_eq!(find(b":authority", b"example.com"), Some(Match::Name(0)));
        assert_eq!(find(b"x-custom", b""), None);
        for (i, (name, value)) in ENTRIES.iter().enumerate() {
            assert_eq!(find(name, value), Some(Match::Exact(i as u64)));
        }
    }
}
