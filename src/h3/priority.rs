//! Extensible priorities (RFC 9218): the [`Priority`] of a request or push, read from the
//! `priority` header field or a PRIORITY_UPDATE frame's Priority Field Value, and written
//! for the frames a client sends.
//!
//! Both carry a Structured Field Dictionary (RFC 8941 §3.2). Parsing follows RFC 8941 §4.2
//! for the whole dictionary, so that a value that is not a dictionary is ignored as a
//! whole, as RFC 9218 §4 asks: `u` (urgency) is an Integer from 0 to 7, `i` (incremental)
//! a Boolean; a member of another type or out of range is ignored, as are members with
//! other names and all parameters. Nothing here is an error: a malformed value leaves
//! the defaults (`u=3`, not incremental).

/// A request's or push's priority (RFC 9218 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Priority {
    /// 0 (most urgent) to 7 (least); 3 by default.
    pub urgency: u8,
    /// Whether the response is useful in pieces, so it may share the connection with
    /// others of its urgency; `false` by default.
    pub incremental: bool,
}

impl Priority {
    /// The defaults: `u=3`, not incremental.
    pub const DEFAULT: Priority = Priority {
        urgency: 3,
        incremental: false,
    };
    /// The least urgent value `urgency` may take.
    pub const MAX_URGENCY: u8 = 7;

    /// The priority a Priority Field Value (the `priority` header's value, or a
    /// PRIORITY_UPDATE frame's) gives: what it says, the defaults for the rest. A value
    /// that is not a valid dictionary gives the defaults.
    pub fn parse(value: &[u8]) -> Priority {
        let mut priority = Priority::DEFAULT;
        let Some(members) = parse_dictionary(value) else {
            return priority;
        };
        // Later duplicates override earlier ones (RFC 8941 §4.2.2), so the last valid
        // value of each key wins; an invalid one is ignored.
        for (key, value) in members {
            match (key, value) {
                (b"u", Bare::Integer(u)) if (0..=i64::from(Self::MAX_URGENCY)).contains(&u) => {
                    priority.urgency = u as u8;
                }
                (b"i", Bare::Boolean(i)) => priority.incremental = i,
                _ => {}
            }
        }
        priority
    }

    /// The Priority Field Value for this priority, leaving out what is the default
    /// (empty for the defaults): `u=1`, `i`, `u=5, i`.
    pub fn to_field_value(self) -> String {
        let mut parts = Vec::new();
        if self.urgency != Priority::DEFAULT.urgency {
            parts.push(format!("u={}", self.urgency));
        }
        if self.incremental {
            parts.push("i".to_owned());
        }
        parts.join(", ")
    }

    /// A valid urgency (0 to 7).
    pub fn is_valid(self) -> bool {
        self.urgency <= Self::MAX_URGENCY
    }
}

impl Default for Priority {
    fn default() -> Self {
        Priority::DEFAULT
    }
}

/// The part of a member's value that priorities use; every other kind of value (strings,
/// tokens, decimals, byte sequences, inner lists) is `Other`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Bare {
    Integer(i64),
    Boolean(bool),
    Other,
}

/// A Structured Field Dictionary's members in order, keys borrowed; `None` when `input`
/// is not one (RFC 8941 §4.2: leading and trailing spaces are discarded, anything else
/// left over fails the whole value).
fn parse_dictionary(input: &[u8]) -> Option<Vec<(&[u8], Bare)>> {
    let mut p = Parser { s: input, pos: 0 };
    p.skip(|c| c == b' ');
    let mut members = Vec::new();
    while !p.done() {
        let key = p.key()?;
        let value = if p.eat(b'=') {
            p.member_value()?
        } else {
            p.parameters()?;
            Bare::Boolean(true)
        };
        members.push((key, value));
        p.skip(|c| c == b' ' || c == b'\t');
        if p.done() {
            break;
        }
        if !p.eat(b',') {
            return None;
        }
        p.skip(|c| c == b' ' || c == b'\t');
        if p.done() {
            return None; // a trailing comma
        }
    }
    Some(members)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn done(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.pos += usize::from(hit);
        hit
    }

    fn skip(&mut self, what: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&what) {
            self.pos += 1;
        }
    }

    /// key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )
    fn key(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        if !self
            .peek()
            .is_some_and(|c| c.is_ascii_lowercase() || c == b'*')
        {
            return None;
        }
        self.skip(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-.*".contains(&c));
        Some(&self.s[start..self.pos])
    }

    /// member-value = sf-item / inner-list
    fn member_value(&mut self) -> Option<Bare> {
        if self.eat(b'(') {
            self.inner_list()?;
            self.parameters()?;
            return Some(Bare::Other);
        }
        let bare = self.bare_item()?;
        self.parameters()?;
        Some(bare)
    }

    /// inner-list = "(" *SP [ sf-item *( 1*SP sf-item ) *SP ] ")" parameters, after "(".
    fn inner_list(&mut self) -> Option<()> {
        loop {
            self.skip(|c| c == b' ');
            if self.eat(b')') {
                return Some(());
            }
            self.bare_item()?;
            self.parameters()?;
            if !matches!(self.peek(), Some(b' ' | b')')) {
                return None;
            }
        }
    }

    /// parameters = *( ";" *SP parameter ), parameter = param-key [ "=" param-value ]
    fn parameters(&mut self) -> Option<()> {
        while self.eat(b';') {
            self.skip(|c| c == b' ');
            self.key()?;
            if self.eat(b'=') {
                self.bare_item()?;
            }
        }
        Some(())
    }

    /// bare-item = sf-integer / sf-decimal / sf-string / sf-token / sf-binary /
    /// sf-boolean
    fn bare_item(&mut self) -> Option<Bare> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => self.number(),
            b'"' => self.string().map(|()| Bare::Other),
            b':' => self.byte_sequence().map(|()| Bare::Other),
            b'?' => self.boolean().map(Bare::Boolean),
            c if c.is_ascii_alphabetic() || c == b'*' => {
                self.skip(|c| is_tchar(c) || c == b':' || c == b'/');
                Some(Bare::Other)
            }
            _ => None,
        }
    }

    /// sf-integer (at most 15 digits) or sf-decimal (at most 12 integer and 3 fractional
    /// digits): RFC 8941 §4.2.4.
    fn number(&mut self) -> Option<Bare> {
        let negative = self.eat(b'-');
        let start = self.pos;
        self.skip(|c| c.is_ascii_digit());
        let int_digits = self.pos - start;
        if int_digits == 0 {
            return None;
        }
        if self.eat(b'.') {
            let frac_start = self.pos;
            self.skip(|c| c.is_ascii_digit());
            let frac_digits = self.pos - frac_start;
            return (int_digits <= 12 && (1..=3).contains(&frac_digits)).then_some(Bare::Other);
        }
        if int_digits > 15 {
            return None;
        }
        let digits = std::str::from_utf8(&self.s[start..self.pos]).ok()?;
        let value: i64 = digits.parse().ok()?;
        Some(Bare::Integer(if negative { -value } else { value }))
    }

    /// sf-string: DQUOTE, printable ASCII with `\"` and `\\` escapes, DQUOTE.
    fn string(&mut self) -> Option<()> {
        self.pos += 1; // the opening quote
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(());
                }
                b'\\' => {
                    self.pos += 1;
                    if !matches!(self.peek()?, b'"' | b'\\') {
                        return None;
                    }
                    self.pos += 1;
                }
                0x20..=0x7e => self.pos += 1,
                _ => return None,
            }
        }
    }

    /// sf-binary: ":" base64 ":" (RFC 8941 §4.2.7; padding is not checked, as §4.2.7
    /// allows).
    fn byte_sequence(&mut self) -> Option<()> {
        self.pos += 1;
        self.skip(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c));
        self.eat(b':').then_some(())
    }

    /// sf-boolean: "?0" or "?1".
    fn boolean(&mut self) -> Option<bool> {
        self.pos += 1;
        let value = match self.peek()? {
            b'0' => false,
            b'1' => true,
            _ => return None,
        };
        self.pos += 1;
        Some(value)
    }
}

/// tchar (RFC 9110 §5.6.2).
fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(value: &str) -> (u8, bool) {
        let priority = Priority::parse(value.as_bytes());
        (priority.urgency, priority.incremental)
    }

    #[test]
    fn rfc_9218_examples() {
        assert_eq!(p("u=5, i"), (5, true));
        assert_eq!(p("u=0"), (0, false));
        assert_eq!(p("i"), (3, true));
        assert_eq!(p(""), (3, false));
        assert_eq!(p("u=2, i=?0"), (2, false));
        assert_eq!(p("i=?1"), (3, true));
    }

    #[test]
    fn members_of_another_type_or_range_are_ignored() {
        assert_eq!(p("u=8"), (3, false));
        assert_eq!(p("u=-1"), (3, false));
        assert_eq!(p("u=1.5"), (3, false));
        assert_eq!(p("u=\"1\""), (3, false));
        assert_eq!(p("u=?1"), (3, false));
        assert_eq!(p("i=1"), (3, false));
        assert_eq!(p("i=\"yes\""), (3, false));
        assert_eq!(p("u=(1 2)"), (3, false));
        assert_eq!(
            p("u=1, i=tok"),
            (1, false),
            "one bad member, the other kept"
        );
    }

    #[test]
    fn unknown_members_and_parameters_are_ignored() {
        assert_eq!(p("u=1;foo=bar, x=?1, i;a=1;b"), (1, true));
        assert_eq!(p("foo=(a b;c=1 \"s\" :YWJj:), u=6"), (6, false));
        assert_eq!(p("*x-y.z_9=1, u=4"), (4, false));
    }

    #[test]
    fn the_last_duplicate_wins() {
        assert_eq!(p("u=1, u=5"), (5, false));
        assert_eq!(p("i, i=?0"), (3, false));
        // An invalid later value is ignored; the earlier valid one stays.
        assert_eq!(p("u=1, u=9"), (1, false));
    }

    #[test]
    fn whitespace_follows_rfc_8941() {
        assert_eq!(p("  u=2 ,\ti  "), (2, true));
        assert_eq!(p("u=2,i"), (2, true));
        // Spaces around '=' are not allowed: the whole value fails.
        assert_eq!(p("u = 2"), (3, false));
    }

    #[test]
    fn a_value_that_is_no_dictionary_gives_the_defaults() {
        for bad in [
            "u=1,",
            ",u=1",
            "u=1,,i",
            "U=1",
            "u=1 i",
            "1=u",
            "u=",
            "u=1;",
            "u=1;X=2",
            "u=\"open",
            "u=\"bad\\escape\"",
            "u=:abc",
            "u=?2",
            "u=(1 2",
            "u=(1 2)x",
            "u=1234567890123456",
            "u=1.2345",
            "u=1234567890123.1",
            "u=-",
            "u=\u{7f}",
            "i, \u{e9}",
        ] {
            assert_eq!(p(bad), (3, false), "{bad:?}");
        }
        assert_eq!(Priority::parse(&[b'u', b'=', 0xff]), Priority::DEFAULT);
    }

    #[test]
    fn field_values_round_trip() {
        for urgency in 0..=7 {
            for incremental in [false, true] {
                let priority = Priority {
                    urgency,
                    incremental,
                };
                let text = priority.to_field_value();
                assert_eq!(Priority::parse(text.as_bytes()), priority, "{text:?}");
            }
        }
        assert_eq!(Priority::DEFAULT.to_field_value(), "");
        assert_eq!(
            Priority {
                urgency: 5,
                incremental: true
            }
            .to_field_value(),
            "u=5, i"
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet = b"ui=,;?01 9-.\"\\:()*aZ\t";
        for _ in 0..20_000 {
            let len = (x % 12) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            let priority = Priority::parse(&bytes);
            assert!(priority.is_valid());
        }
    }
}
