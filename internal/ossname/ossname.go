// Package ossname holds OSS's naming rules for buckets and regions, which
// ossgate's configuration checks in more than one library.
package ossname

// Bucket reports whether s is a valid bucket name: 3..63 of a-z 0-9 -,
// starting and ending with a letter or digit.
func Bucket(s string) bool { return valid(s, 3, 63) }

// Region reports whether s is a region id such as cn-hangzhou (without the
// "oss-" prefix the console shows): 2..64 of a-z 0-9 -, starting and
// ending with a letter or digit.
func Region(s string) bool { return valid(s, 2, 64) }

func valid(s string, min, max int) bool {
	if len(s) < min || len(s) > max || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
