package policy
import ("testing";"strings";"unicode/utf8")
var swarIn = strings.Repeat("eyJjYWxsYmFja1VybCI6Imh0dHBzOi8vdXBsb2Fkcy5leGFtcGxlLmNvbS9", 15)
func appendStringSWAR(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) {
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			const lo, hi = 0x0101010101010101, 0x8080808080808080
			q, bs := w^(lo*'"'), w^(lo*'\\')
			if ((w-lo*0x20)|(q-lo)|(bs-lo)|w)&hi != 0 { break }
			i += 8
		}
		if i >= len(s) { break }
		b := s[i]
		if b < utf8.RuneSelf && jsonSafe[b] { i++; continue }
		i++
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
func BenchmarkEscScalar(b *testing.B) { buf := make([]byte, 0, 4096); b.SetBytes(int64(len(swarIn))); for b.Loop() { buf = appendString(buf[:0], swarIn) } }
func BenchmarkEscSWAR(b *testing.B) { buf := make([]byte, 0, 4096); b.SetBytes(int64(len(swarIn))); for b.Loop() { buf = appendStringSWAR(buf[:0], swarIn) } }
