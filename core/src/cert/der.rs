//! Just enough DER to read a certificate's `notAfter` (RFC 5280 4.1): a full X.509 parser
//! would be a large dependency for one timestamp.

/// `notAfter` of a DER certificate as Unix seconds, or `None` if it cannot be read.
pub fn not_after(cert_der: &[u8]) -> Option<i64> {
    let (cert, _) = element(cert_der, SEQUENCE)?;
    let (mut tbs, _) = element(cert, SEQUENCE)?;
    // version [0] EXPLICIT is optional.
    if tbs.first() == Some(&0xa0) {
        tbs = element(tbs, 0xa0)?.1;
    }
    let rest = skip(tbs, 0x02)?; // serialNumber
    let rest = skip(rest, SEQUENCE)?; // signature AlgorithmIdentifier
    let rest = skip(rest, SEQUENCE)?; // issuer Name
    let (validity, _) = element(rest, SEQUENCE)?;
    let (&tag, _) = validity.split_first()?;
    let after = match tag {
        UTC_TIME | GENERALIZED_TIME => skip(validity, tag)?,
        _ => return None,
    };
    let (&tag, _) = after.split_first()?;
    let (text, _) = element(after, tag)?;
    parse_time(tag, text)
}

const SEQUENCE: u8 = 0x30;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// Reads one element with tag `want`: (contents, rest of the input).
fn element(input: &[u8], want: u8) -> Option<(&[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag != want {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b))
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

fn skip(input: &[u8], want: u8) -> Option<&[u8]> {
    element(input, want).map(|(_, rest)| rest)
}

/// `YYMMDDHHMMSSZ` (UTCTime, 1950-2049) or `YYYYMMDDHHMMSSZ` (GeneralizedTime).
fn parse_time(tag: u8, text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?.strip_suffix('Z')?;
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |s: &str| s.parse::<i64>().ok();
    let (year, rest) = match (tag, text.len()) {
        (UTC_TIME, 12) => {
            let yy = num(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (GENERALIZED_TIME, 14) => (num(&text[..4])?, &text[4..]),
        _ => return None,
    };
    let (month, day) = (num(&rest[..2])?, num(&rest[2..4])?);
    let (hour, min, sec) = (num(&rest[4..6])?, num(&rest[6..8])?, num(&rest[8..10])?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_time_forms_to_unix_seconds() {
        assert_eq!(parse_time(UTC_TIME, b"700101000000Z"), Some(0));
        assert_eq!(parse_time(UTC_TIME, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(
            parse_time(GENERALIZED_TIME, b"20380119031408Z"),
            Some(2_147_483_648)
        );
        assert_eq!(parse_time(UTC_TIME, b"701301000000Z"), None, "month 13");
        assert_eq!(parse_time(UTC_TIME, b"7001010000Z"), None, "too short");
    }

    #[test]
    fn rejects_truncated_or_foreign_input() {
        assert_eq!(not_after(b""), None);
        assert_eq!(not_after(&[0x30, 0x82, 0xff]), None);
        assert_eq!(not_after(&[0x02, 0x01, 0x00]), None);
    }
}
