package policy

import "time"

// Hand-written forms of expirationLayout and dateLayout: time.AppendFormat
// interprets its layout on every call, which showed in the signing profile.
// TestTimeFormats checks them against time.Format.

// appendExpiration appends t as 2006-01-02T15:04:05.000Z (UTC).
func appendExpiration(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, expirationLayout)
	}
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = appendDigits(append(b, '-'), int(mo), 2)
	b = appendDigits(append(b, '-'), d, 2)
	b = appendDigits(append(b, 'T'), h, 2)
	b = appendDigits(append(b, ':'), mi, 2)
	b = appendDigits(append(b, ':'), s, 2)
	b = appendDigits(append(b, '.'), t.Nanosecond()/1e6, 3)
	return append(b, 'Z')
}

// appendXOSSDate appends t as 20060102T150405Z (UTC).
func appendXOSSDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, dateLayout)
	}
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = appendDigits(b, int(mo), 2)
	b = appendDigits(b, d, 2)
	b = appendDigits(append(b, 'T'), h, 2)
	b = appendDigits(b, mi, 2)
	b = appendDigits(b, s, 2)
	return append(b, 'Z')
}

// appendDigits appends v (0 <= v < 10^n, n <= 4) as exactly n decimal
// digits.
func appendDigits(b []byte, v, n int) []byte {
	switch n {
	case 4:
		b = append(b, byte('0'+v/1000), byte('0'+v/100%10))
		fallthrough
	case 2:
		return append(b, byte('0'+v/10%10), byte('0'+v%10))
	case 3:
		return append(b, byte('0'+v/100), byte('0'+v/10%10), byte('0'+v%10))
	}
	panic("policy: appendDigits supports 2, 3 or 4 digits")
}
